using FluentMigrator;
using FluentMigrator.Infrastructure;
using IamVet.Schema.Migrations.Infrastructure;

namespace IamVet.Schema.Migrations;

/// <summary>
/// The expand step: the profile columns of users move into veterinarians, veterinary_students and
/// hospitals, and the legacy side tables' hospital rows into hospital_images and the treatment
/// tables. One migration, so that in both directions the statements that lock users ACCESS
/// EXCLUSIVE run last, just before COMMIT, and users stays readable while rows move (docs/adr/0006;
/// until 2026-12 these were seven migrations, 202509290200–0800).
/// <list type="bullet">
/// <item>Up, per table in <see cref="Tables"/> order (<c>Sql/SplitUsersIntoProfileTables/{table}.up.sql</c>):
/// a bare table, one <c>INSERT … SELECT</c>, then keys, indexes and foreign keys (SHARE ROW
/// EXCLUSIVE on users: writes wait, reads go on); then <c>legacy_writes.up.sql</c>: the triggers that
/// record an old application's writes to the moved columns and the legacy side tables from now on,
/// which the rollback's audit names (docs/adr/0007). Then the gate, then <c>exclusive.up.sql</c>:
/// users.realName accepts NULL.</item>
/// <item>Down, in reverse order (<c>{table}.down.sql</c>): the tables are the truth after the up,
/// so every value and row the new application changed or added is written back into users and the
/// legacy side tables (not recorded as old-application writes: <c>legacy_writes.down.sql</c>). Then
/// the gate, then <c>exclusive.down.sql</c>: the triggers are dropped, the tables lose their foreign
/// keys to users and are renamed out of the application's way (iamvet_rolled_back_*), and
/// users.realName gets a CHECK (IS NOT NULL) NOT VALID; after COMMIT, each in a short transaction of
/// its own, <see cref="FinishDownSteps"/> drop the renamed tables (docs/adr/0009: their files are
/// unlinked without users locked), then validate the CHECK and make the column NOT NULL again
/// without a scan under ACCESS EXCLUSIVE (docs/adr/0008; a user still without a name is named in
/// its error).</item>
/// </list>
/// Per table: every user of the type moves, active or not (withdrawn accounts can be restored);
/// ids are a prefix + the legacy id ('vet_', 'vst_', 'hosp_', 'himg_', 'hta_', 'hts_'), so up →
/// down → up gives the same rows. Hospitals: realName is the representative, businessLicenseFile
/// the newest licence's fileUrl, a HOSPITAL without hospitalName is refused, naming the ids.
/// Images: imageOrder is 1, 2, 3 … per hospital by displayOrder, createdAt, id. Animals and
/// specialties: duplicates per hospital collapse to the earliest row. Rows of side tables whose user
/// is not a hospital stay where they are. Values without a legacy column (postalCode, coordinates,
/// descriptions), and what the next up would not derive from the legacy side (an id of the
/// application's own, a timestamp finer than the legacy column's or other than the legacy row's),
/// wait in iamvet_rollback_stash for the next up (Shared/rollback_stash.*.sql around the tables' scripts).
/// </summary>
[Migration(202509290900, "Split users into veterinarians, veterinary_students, hospitals, hospital_images and the treatment tables")]
public sealed class SplitUsersIntoProfileTables : Migration, IFinishesDownAfterCommit
{
    /// <summary>The new tables in the order the up fills them (each needs only those before it); the down goes backwards.</summary>
    public static readonly IReadOnlyList<string> Tables =
    [
        "veterinarians", "veterinary_students", "hospitals", "hospital_images", "hospital_treatment_animals", "hospital_treatment_specialties",
    ];

    private IExclusiveLockGate? gate;

    // The gate comes from FluentMigrator's service provider, which only the migration context carries.
    public override void GetUpExpressions(IMigrationContext context)
    {
        gate = context.ServiceProvider?.GetService(typeof(IExclusiveLockGate)) as IExclusiveLockGate;
        base.GetUpExpressions(context);
    }

    public override void GetDownExpressions(IMigrationContext context)
    {
        gate = context.ServiceProvider?.GetService(typeof(IExclusiveLockGate)) as IExclusiveLockGate;
        base.GetDownExpressions(context);
    }

    public override void Up()
    {
        // What an unfinished rollback left (its Finish never ran): the renamed tables' indexes
        // carry the names of the ones created below.
        Execute.Sql(Script("rolled_back_tables.drop.sql"));
        Execute.Sql(SqlScripts.Load("Shared.rollback_stash.create.sql"));
        foreach (var table in Tables)
        {
            Execute.Sql(Script($"{table}.up.sql"));
        }

        Execute.Sql(SqlScripts.Load("Shared.rollback_stash.drop_if_empty.sql"));

        Execute.Sql(Script("legacy_writes.up.sql"));
        Execute.Sql(SqlScripts.Load("Shared.legacy_writes_trigger_on_users.sql"));
        PassTheGate();
        RunExclusive(Script("exclusive.up.sql"));
    }

    public override void Down()
    {
        Execute.Sql(Script("legacy_writes.down.sql"));
        Execute.Sql(SqlScripts.Load("Shared.rollback_stash.create.sql"));
        foreach (var table in Tables.Reverse())
        {
            Execute.Sql(Script($"{table}.down.sql"));
        }

        Execute.Sql(SqlScripts.Load("Shared.rollback_stash.drop_if_empty.sql"));

        PassTheGate();
        RunExclusive(Script("exclusive.down.sql"));
    }

    /// <summary>First the renamed tables go (docs/adr/0009: their files unlinked at a COMMIT that holds no lock on users), then realName (docs/adr/0008).</summary>
    public IReadOnlyList<string> FinishDownSteps => [Script("rolled_back_tables.drop.sql"), Script("realName_not_null.after-commit.sql")];

    public string DownPendingSql => $$"""
        SELECT EXISTS (SELECT FROM pg_constraint WHERE conrelid = to_regclass('public.users') AND conname = 'users_realname_not_null')
            OR EXISTS (SELECT FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
                         AND relname IN ({{string.Join(", ", Tables.Select(t => $"'{RolledBackPrefix}{t}'"))}}))
        """;

    public string DownPendingDescription =>
        "the rolled-back tables (iamvet_rolled_back_*) are not dropped yet, or users.\"realName\" is not NOT NULL yet (a CHECK NOT VALID refuses new rows without one): the rollback's last step is pending";

    public string DownFinishedDescription =>
        "rolled-back tables dropped (no lock on users); users.\"realName\" NOT NULL again: validated without blocking readers, then set without a scan";

    /// <summary>What <c>exclusive.down.sql</c> renames each new table to, before the Finish stage drops it.</summary>
    public const string RolledBackPrefix = "iamvet_rolled_back_";

    private static string Script(string name) => SqlScripts.Load($"{nameof(SplitUsersIntoProfileTables)}.{name}");

    /// <summary>The statements that lock users ACCESS EXCLUSIVE: through the gate, which decides when (at once without one).</summary>
    private void RunExclusive(string sql)
    {
        if (gate is not { } reached)
        {
            Execute.Sql(sql);
            return;
        }

        Execute.WithConnection((connection, transaction) => reached.RunExclusive(connection, transaction, (c, t) =>
        {
            using var command = c.CreateCommand();
            command.Transaction = t;
            command.CommandText = sql;
            command.CommandTimeout = 0; // the connection's statement_timeout and lock_timeout apply
            command.ExecuteNonQuery();
        }));
    }

    private void PassTheGate()
    {
        if (gate is { } reached)
        {
            Execute.WithConnection((connection, transaction) => reached.Enter(connection, transaction));
        }
    }
}
