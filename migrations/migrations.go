// Package migrations holds the schema of the certification register as numbered, hand-written
// SQL files, one folder per database, embedded into the binary.
//
// Files are named NNNN_name.sql and numbered from 0001 without gaps. Each file is applied in
// its own transaction and recorded in the table schema_migrations (version, applied_at) by
// storage/migrate; a file once released is never edited, a change is a new file. The same
// version number means the same schema in both folders.
package migrations

import "embed"

// SQLite holds sqlite/NNNN_*.sql, the schema of storage/sqlite.
//
//go:embed sqlite/*.sql
var SQLite embed.FS

// Postgres holds postgres/NNNN_*.sql, the schema of storage/postgres.
//
//go:embed postgres/*.sql
var Postgres embed.FS
