// Package storage holds the adapters that keep the service's records, one sub-package per
// system:
//
//   - storage/sqlite: the certification register and audit log on one SQLite file (the
//     embedded default, no setup);
//   - storage/postgres: the same on PostgreSQL (production);
//   - storage/registertest: the conformance suite both registers pass;
//   - storage/migrate: applies the numbered SQL files of package migrations;
//   - storage/fs and storage/s3: the object stores of signed copies and scans;
//   - storage/objecttest: the conformance suite both object stores pass;
//   - storage/guard: wraps an object store with time limits and knows when it is down.
//
// Each adapter implements the interfaces of the root package (chungthuc.Register,
// chungthuc.AuditLog, chungthuc.ObjectStore) and imports no other adapter.
package storage
