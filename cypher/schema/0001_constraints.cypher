// Unique keys of the graph's nodes (DESIGN.md, "The graph"). Each constraint
// also gives the index that every query starting from that key uses.
CREATE CONSTRAINT xaccount_xid IF NOT EXISTS FOR (x:XAccount) REQUIRE x.xid IS UNIQUE;
CREATE CONSTRAINT member_id IF NOT EXISTS FOR (m:Member) REQUIRE m.id IS UNIQUE;
CREATE CONSTRAINT bluesky_did IF NOT EXISTS FOR (a:BlueskyAccount) REQUIRE a.did IS UNIQUE;
CREATE CONSTRAINT mastodon_acct IF NOT EXISTS FOR (a:MastodonAccount) REQUIRE a.acct IS UNIQUE;
CREATE CONSTRAINT archive_id IF NOT EXISTS FOR (a:Archive) REQUIRE a.id IS UNIQUE;
// Applied schema files are recorded once each (cypher/migrate.go).
CREATE CONSTRAINT schema_migration_name IF NOT EXISTS FOR (m:SchemaMigration) REQUIRE m.name IS UNIQUE;
