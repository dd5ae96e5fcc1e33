-- requires: 20260829000000_add_model_access_group_budget_table
-- mode: fragment
-- Every row that points at a LiteLLM_BudgetTable row, one `budget_id` each: every budget_id column of
-- LiteLLM's schema (memberships, organizations, projects, keys and deleted keys, end users, tags,
-- model access groups) and teams' default member budget (metadata.team_member_budget_id). A budget
-- row none of them names is no one's; the FKs would silently set the others to NULL.
SELECT budget_id FROM "LiteLLM_TeamMembership"
UNION ALL SELECT budget_id FROM "LiteLLM_OrganizationMembership"
UNION ALL SELECT budget_id FROM "LiteLLM_OrganizationTable"
UNION ALL SELECT budget_id FROM "LiteLLM_ProjectTable"
UNION ALL SELECT budget_id FROM "LiteLLM_VerificationToken"
UNION ALL SELECT budget_id FROM "LiteLLM_DeletedVerificationToken"
UNION ALL SELECT budget_id FROM "LiteLLM_EndUserTable"
UNION ALL SELECT budget_id FROM "LiteLLM_TagTable"
UNION ALL SELECT budget_id FROM "LiteLLM_ModelAccessGroupBudgetTable"
UNION ALL SELECT metadata ->> 'team_member_budget_id' FROM "LiteLLM_TeamTable"
