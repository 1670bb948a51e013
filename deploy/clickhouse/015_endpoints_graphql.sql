-- GraphQL operation endpoints (analyzers/graphql, report/v1 endpoint `operation` and `graphqlErrors`):
-- an operation is an endpoint row of its own, keyed like every endpoint by (host, method, path), its
-- path being `<base>/<type>/<name>` (e.g. /graphql/query/GetUser). Other rows leave both empty.
ALTER TABLE endpoints ADD COLUMN IF NOT EXISTS operation String DEFAULT '' COMMENT 'GraphQL operation endpoints: type and name, e.g. query GetUser; empty for other endpoints';
ALTER TABLE endpoints ADD COLUMN IF NOT EXISTS graphql_errors UInt64 DEFAULT 0 COMMENT 'GraphQL operation endpoints: executions whose result carried errors; 0 for other endpoints';
