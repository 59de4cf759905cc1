using System.Data;

namespace IamVet.Schema.Runner.Operations;

/// <summary>Where a database stands: what <c>status</c> shows.</summary>
public sealed record DatabaseStatus(string Database, string Phase, IReadOnlyCollection<long> Applied, IReadOnlyList<MigrationLogRow> RecentLog)
{
    public long? CurrentVersion => Applied.Count == 0 ? null : Applied.Max();
}

/// <summary>What <c>verify</c> compared and found (null result: nothing to compare, see <see cref="CleanedUp"/>).</summary>
public sealed record VerifyOutcome(IReadOnlyList<string> Tables, VerificationResult? Result, bool CleanedUp)
{
    public bool Passed => Result?.Passed ?? true;
}

/// <summary>
/// The read-only commands: <c>status</c>, <c>verify</c>, and <c>preview</c>'s plan. Each opens one
/// connection in its own role (a failure to connect is a refusal, exit 3) and changes nothing.
/// </summary>
public static class Inspection
{
    /// <summary>How many migration_log rows <c>status</c> shows.</summary>
    public const int RecentLogRows = 5;

    public static async Task<DatabaseStatus> StatusAsync(ConnectionTarget target, CancellationToken cancellationToken)
    {
        await using var database = new MigrationDatabase(target);
        await using var connection = await LockStage.ConnectAsync(database, Roles.Status, cancellationToken);
        var applied = await VersionHistory.ReadAppliedAsync(connection, cancellationToken);
        var log = await MigrationLog.ExistsAsync(connection, cancellationToken) ? await MigrationLog.LastAsync(connection, RecentLogRows, cancellationToken) : [];
        var phase = Phase(applied);
        foreach (var (step, finish) in await AfterCommit.PendingAsync(connection, cancellationToken))
        {
            phase += $"; pending since a rollback of {step.Version}: {finish.DownPendingDescription} (run `migrate down` to finish it, docs/adr/0008)";
        }

        return new DatabaseStatus(target.Database, phase, applied.ToHashSet(), log);
    }

    /// <summary>legacy / normalized / cleaned up, as the team names the phases.</summary>
    public static string Phase(IReadOnlyCollection<long> applied)
    {
        var catalog = MigrationCatalog.All;
        if (applied.Count == 0)
        {
            return "no migration history (run `baseline` on an existing legacy database)";
        }

        var gated = catalog.Where(step => step.RequiredFlag is not null).Select(step => step.Version).ToHashSet();
        var expand = catalog.Where(step => !gated.Contains(step.Version)).Select(step => step.Version).ToList();
        if (gated.Count > 0 && gated.All(applied.Contains))
        {
            return "cleaned up (moved columns dropped from users)";
        }

        if (expand.All(applied.Contains))
        {
            return "normalized (expand phase: legacy columns still present)";
        }

        return "legacy";
    }

    /// <summary>
    /// The post-migration verification on demand, read-only, in one consistent snapshot: do the new
    /// tables still hold exactly what the legacy columns hold? Right after an up they must; once the
    /// new application writes, differences are expected and listed.
    /// </summary>
    public static async Task<VerifyOutcome> VerifyAsync(ConnectionTarget target, CancellationToken cancellationToken)
    {
        await using var database = new MigrationDatabase(target);
        await using var connection = await LockStage.ConnectAsync(database, Roles.Verify, cancellationToken);
        var applied = await VersionHistory.ReadAppliedAsync(connection, cancellationToken);
        await PreflightStage.CheckRowSecurityAsync(connection, cancellationToken);
        var steps = MigrationCatalog.All.Where(s => applied.Contains(s.Version) && Projections.Of(s.Version).Count > 0).ToList();
        var tables = steps.SelectMany(s => Projections.Of(s.Version)).Select(p => p.Table).ToList();
        if (applied.Contains(Versions.Cleanup))
        {
            return new VerifyOutcome(tables, null, CleanedUp: true);
        }

        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await Sql.ExecuteAsync(connection, "SET TRANSACTION READ ONLY", cancellationToken, transaction);
        var plan = new MigrationPlan(MigrationDirection.Up, applied.Count == 0 ? null : applied.Max(), applied.Count == 0 ? 0 : applied.Max(), steps);
        await using var baseline = await Verifier.CaptureAsync(connection, transaction, plan, database, cancellationToken);
        var result = await Verifier.VerifyAsync(connection, transaction, plan, baseline, null, cancellationToken);
        await transaction.RollbackAsync(cancellationToken);
        return new VerifyOutcome(tables, result, CleanedUp: false);
    }

    /// <summary>The plan <c>preview</c> shows, from the database's applied versions (a plan that cannot be made is a usage error, exit 2).</summary>
    public static async Task<MigrationPlan> PlanAsync(
        ConnectionTarget target, MigrationDirection direction, long? to, int? steps, IReadOnlyCollection<string> flags, CancellationToken cancellationToken)
    {
        IReadOnlyList<long> applied;
        await using (var database = new MigrationDatabase(target))
        await using (var connection = await LockStage.ConnectAsync(database, Roles.Preview, cancellationToken))
        {
            applied = await VersionHistory.ReadAppliedAsync(connection, cancellationToken);
        }

        try
        {
            return direction == MigrationDirection.Up ? MigrationPlanner.PlanUp(applied, to, flags) : MigrationPlanner.PlanDown(applied, to, steps);
        }
        catch (MigrationPlanningException ex)
        {
            throw new ConfigurationException(ex.Message);
        }
    }

    /// <summary>
    /// The plan a <c>migrate</c> run will show before it asks (and in its header), read from the
    /// applied versions without the migration lock; the run plans again under the lock and refuses
    /// if that differs. Null with the reason when pre-flight will refuse the database as it is
    /// (a legacy database without history, an empty one without <c>--create-legacy-schema</c>).
    /// A request that cannot be planned (<c>--steps</c> beyond what is applied) is a usage error.
    /// Route: the way to the server as the pooler check found it (a transaction pooler is refused
    /// here, before anything else); the run hands it to its lock stage, which does not check again.
    /// </summary>
    public static async Task<(MigrationPlan? Plan, string? Refusal, PoolerVerdict Route)> PlanForRunAsync(RunOptions options, CancellationToken cancellationToken)
    {
        IReadOnlyList<long> applied;
        bool hasUsers;
        await using var database = new MigrationDatabase(options.Target);
        var route = await LockStage.RefuseATransactionPoolerAsync(database, cancellationToken); // before any connection with the run's settings
        await using (var connection = await LockStage.ConnectAsync(database, Roles.Preview, cancellationToken))
        {
            try
            {
                applied = await VersionHistory.ReadAppliedAsync(connection, cancellationToken);
            }
            catch (Npgsql.PostgresException denied) when (denied.SqlState == Npgsql.PostgresErrorCodes.InsufficientPrivilege)
            {
                return (null, $"the role may not read the migration history ({denied.MessageText}): pre-flight lists every privilege it lacks", route);
            }

            hasUsers = await Sql.TableExistsAsync(connection, "users", cancellationToken);
        }

        if (applied.Count == 0 && hasUsers)
        {
            return (null, "a legacy database without migration history: pre-flight will send it to `baseline`", route);
        }

        if (applied.Count == 0 && options.Direction == MigrationDirection.Up && !options.CreateLegacySchema)
        {
            return (null, PreflightStage.EmptyDatabaseRefusal(options.Target.Database), route);
        }

        try
        {
            return (options.Direction == MigrationDirection.Up
                ? MigrationPlanner.PlanUp(applied, options.TargetVersion, options.Flags)
                : MigrationPlanner.PlanDown(applied, options.TargetVersion, options.Steps), null, route);
        }
        catch (UnknownAppliedVersionsException ex)
        {
            return (null, ex.Message, route);
        }
        catch (MigrationPlanningException ex)
        {
            throw new ConfigurationException(ex.Message);
        }
    }

    /// <summary>Writes the SQL <paramref name="plan"/> would run (FluentMigrator's preview mode: it connects, and executes nothing that changes the database).</summary>
    public static async Task PreviewAsync(ConnectionTarget target, MigrationPlan plan, TextWriter output)
    {
        await using var database = new MigrationDatabase(target);
        MigrationExecutor.Preview(database.FluentMigratorConnection(Roles.Preview), plan, output);
    }
}
