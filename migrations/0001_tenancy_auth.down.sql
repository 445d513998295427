DROP TABLE IF EXISTS connections, api_tokens, sessions, memberships, users, workspaces;
