using FluentMigrator;
using IamVet.Schema.Migrations.Infrastructure;

namespace IamVet.Schema.Migrations;

/// <summary>
/// The pre-normalization shape exactly as production's pg_dump showed it (Prisma names, camelCase
/// identifiers, timestamp(3)), so development and test databases start where production is.
/// Production itself is adopted with the runner's <c>baseline</c> command, which records this
/// version without running it. Forward only: nothing we ship may drop production's users table.
/// </summary>
[Migration(202509290000, "Legacy baseline: users, hospital side tables and migration_log as in production")]
public sealed class LegacyBaseline : ForwardOnlyMigration
{
    public override void Up() => Execute.Sql(SqlScripts.Load("LegacyBaseline.up.sql"));
}
