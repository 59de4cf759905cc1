using FluentMigrator;
using IamVet.Schema.Migrations.Infrastructure;

namespace IamVet.Schema.Migrations;

/// <summary>
/// migration_log already holds production rows written by hand; it gains the columns an audit row
/// needs (status, timing, versions, backup, who and where, details). Existing rows keep NULL there:
/// they were written before the runner existed. Down stashes what the new columns hold in
/// iamvet_rollback_stash before dropping them, and Up brings it back, so no audit value is lost.
/// </summary>
[Migration(202509290100, "migration_log gains audit columns: status, timing, versions, backup, host, details")]
public sealed class AuditColumnsForMigrationLog : SqlMigration;
