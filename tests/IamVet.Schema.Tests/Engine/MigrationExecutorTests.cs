using Microsoft.Extensions.Logging.Abstractions;

namespace IamVet.Schema.Tests.Engine;

/// <summary>The executor's promise: a plan is one transaction, whatever fails inside it.</summary>
[TestFixture]
public sealed class MigrationExecutorTests
{
    private TestDatabase database = null!;

    [SetUp]
    public async Task CreateDatabaseAtTheBaseline()
    {
        database = await TestDatabase.CreateAsync();
        await Migrator.UpToAsync(database, Versions.Baseline);
    }

    [TearDown]
    public async Task Drop() => await database.DisposeAsync();

    [Test]
    public async Task A_failing_migration_late_in_the_plan_rolls_back_every_migration_before_it()
    {
        // Given a HOSPITAL without hospitalName, which the split refuses after it has moved the veterinarians
        await LegacyRows.InsertAsync(database,
            new LegacyUser("v1", "VETERINARIAN"),
            new LegacyUser("h1", "HOSPITAL") { HospitalName = null });
        var before = await SnapshotAsync();

        // When the whole expand plan runs
        var plan = MigrationPlanner.PlanUp(await Migrator.AppliedAsync(database), Migrator.Expanded);
        Assert.That(plan.Steps.Select(step => step.Version), Is.EqualTo(new[] { Versions.AuditColumns, Versions.SplitUsers }));
        var failure = Assert.Catch(() => new MigrationExecutor(NullLoggerFactory.Instance).Apply(database.ConnectionString, plan));

        // Then nothing of the audit columns' migration or the veterinarians moved before is left either
        Assert.That(failure!.ToString(), Does.Contain("h1"));
        Assert.That(await Migrator.AppliedAsync(database), Is.EqualTo(new[] { Versions.Baseline }));
        Assert.That((await SnapshotAsync()).Diff(before), Is.Empty, "the schema changed although the plan failed");
    }

    [Test]
    public async Task A_check_that_throws_before_commit_rolls_back_the_whole_plan()
    {
        await LegacyRows.InsertAsync(database, new LegacyUser("v1", "VETERINARIAN"));
        var before = await SnapshotAsync();
        var plan = MigrationPlanner.PlanUp(await Migrator.AppliedAsync(database), Migrator.Expanded);
        var seenInsideTransaction = -1L;

        Assert.Throws<InvalidOperationException>(() => new MigrationExecutor(NullLoggerFactory.Instance).Apply(
            database.ConnectionString, plan,
            beforeCommit: async (connection, transaction) =>
            {
                await using var count = new NpgsqlCommand("SELECT count(*) FROM veterinarians", connection, transaction);
                seenInsideTransaction = (long)(await count.ExecuteScalarAsync())!;
                throw new InvalidOperationException("verification says no");
            }));

        Assert.That(seenInsideTransaction, Is.EqualTo(1), "the check did not see the migrated data inside the transaction");
        Assert.That(await Migrator.AppliedAsync(database), Is.EqualTo(new[] { Versions.Baseline }));
        Assert.That((await SnapshotAsync()).Diff(before), Is.Empty);
    }

    [Test]
    public async Task The_gate_runs_after_the_data_move_and_before_users_is_altered_and_throwing_there_rolls_back_the_plan()
    {
        // Given a legacy veterinarian
        await LegacyRows.InsertAsync(database, new LegacyUser("v1", "VETERINARIAN"));
        var before = await SnapshotAsync();
        var plan = MigrationPlanner.PlanUp(await Migrator.AppliedAsync(database), Migrator.Expanded);
        (long Vets, string NotNull, string? UsersLock)? atGate = null;

        // When the plan runs and the gate looks around, then refuses
        Assert.Throws<InvalidOperationException>(() => new MigrationExecutor(NullLoggerFactory.Instance).Apply(
            database.ConnectionString, plan,
            atGate: async (connection, transaction) =>
            {
                await using var look = new NpgsqlCommand("""
                    SELECT (SELECT count(*) FROM veterinarians),
                           (SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'realName'),
                           (SELECT string_agg(mode, ',' ORDER BY mode) FROM pg_locks
                            WHERE pid = pg_backend_pid() AND relation = 'users'::regclass AND mode = 'AccessExclusiveLock')
                    """, connection, transaction);
                await using var reader = await look.ExecuteReaderAsync();
                await reader.ReadAsync();
                atGate = (reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));
                throw new InvalidOperationException("verification says no");
            }));

        // Then at the gate the rows had moved, realName was still NOT NULL and users not locked ACCESS EXCLUSIVE …
        Assert.That(atGate, Is.EqualTo(((long, string, string?)?)(1L, "true", null)));

        // … and nothing is left of the plan
        Assert.That(await Migrator.AppliedAsync(database), Is.EqualTo(new[] { Versions.Baseline }));
        Assert.That((await SnapshotAsync()).Diff(before), Is.Empty);
    }

    [Test]
    public async Task A_rollbacks_statements_that_lock_users_run_after_its_last_migration_just_before_commit()
    {
        // Given an upgraded database
        await LegacyRows.InsertAsync(database, new LegacyUser("v1", "VETERINARIAN"));
        await Migrator.UpToAsync(database, Migrator.Expanded);
        var plan = MigrationPlanner.PlanDown(await Migrator.AppliedAsync(database), Versions.Baseline);

        // When the whole rollback runs through a gate (docs/adr/0009)
        var events = ApplyRecordingWhenUsersIsLocked(plan);

        // Then users was locked ACCESS EXCLUSIVE only after every migration of the plan, just before COMMIT
        Assert.That(events, Is.EqualTo(new[]
        {
            "gate", $"{Versions.SplitUsers} done, users locked: False", $"{Versions.AuditColumns} done, users locked: False", "exclusive", "before commit, users locked: True",
        }));
        Assert.That(await Migrator.AppliedAsync(database), Is.EqualTo(new[] { Versions.Baseline }));
    }

    [TestCase(false, TestName = "An up's statements that lock users run after its last migration, just before commit")]
    [TestCase(true, TestName = "An up with the cleanup runs the expand migration's statements that lock users before the cleanup, which needs them")]
    public async Task An_ups_statements_that_lock_users_are_held_back_until_the_end_or_a_migration_that_locks_users_throughout(bool cleanup)
    {
        // Given a legacy veterinarian at the baseline
        await LegacyRows.InsertAsync(database, new LegacyUser("v1", "VETERINARIAN"));
        var plan = cleanup
            ? MigrationPlanner.PlanUp(await Migrator.AppliedAsync(database), Versions.Cleanup, ["--cleanup"])
            : MigrationPlanner.PlanUp(await Migrator.AppliedAsync(database), Migrator.Expanded);

        // When the plan runs through a gate (docs/adr/0009)
        var events = ApplyRecordingWhenUsersIsLocked(plan);

        // Then users was locked only after the last migration, or just before the cleanup (which then locks it from its start)
        var expanded = new[] { $"{Versions.AuditColumns} done, users locked: False", "gate", $"{Versions.SplitUsers} done, users locked: False" };
        Assert.That(events, Is.EqualTo(cleanup
            ? [.. expanded, "exclusive", $"{Versions.Cleanup} done, users locked: True", "before commit, users locked: True"]
            : expanded.Append("exclusive").Append("before commit, users locked: True").ToArray()));
        Assert.That(await Migrator.AppliedAsync(database), Does.Contain(plan.Steps[^1].Version));
    }

    [Test]
    public async Task Progress_is_reported_after_each_step_inside_the_same_transaction()
    {
        var plan = MigrationPlanner.PlanUp(await Migrator.AppliedAsync(database), Migrator.Expanded);
        var steps = new List<long>();
        var transactions = new HashSet<NpgsqlTransaction>();

        new MigrationExecutor(NullLoggerFactory.Instance).Apply(database.ConnectionString, plan,
            afterEach: (step, _, _, transaction) =>
            {
                steps.Add(step.Version);
                transactions.Add(transaction);
                return Task.CompletedTask;
            });

        Assert.That(steps, Is.EqualTo(plan.Steps.Select(s => s.Version)));
        Assert.That(transactions, Has.Count.EqualTo(1));
    }

    /// <summary>Applies <paramref name="plan"/> through a gate, noting each step, the gate, the exclusive statements' start and COMMIT, with whether users was locked ACCESS EXCLUSIVE.</summary>
    private List<string> ApplyRecordingWhenUsersIsLocked(MigrationPlan plan)
    {
        var events = new List<string>();
        new MigrationExecutor(NullLoggerFactory.Instance).Apply(database.ConnectionString, plan,
            afterEach: async (step, _, connection, transaction) => events.Add($"{step.Version} done, users locked: {await UsersLockedAsync(connection, transaction)}"),
            atGate: (_, _) =>
            {
                events.Add("gate");
                return Task.CompletedTask;
            },
            beforeExclusive: () => events.Add("exclusive"),
            beforeCommit: async (connection, transaction) => events.Add($"before commit, users locked: {await UsersLockedAsync(connection, transaction)}"));
        return events;
    }

    private static async Task<bool> UsersLockedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        await using var command = new NpgsqlCommand(
            "SELECT EXISTS (SELECT FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 'public.users'::regclass AND mode = 'AccessExclusiveLock')",
            connection, transaction);
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    private async Task<SchemaSnapshot> SnapshotAsync()
    {
        await using var connection = await database.OpenAsync();
        return await SchemaSnapshot.TakeAsync(connection);
    }
}
