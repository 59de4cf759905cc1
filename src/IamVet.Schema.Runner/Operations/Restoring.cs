namespace IamVet.Schema.Runner.Operations;

/// <summary>What <c>restore</c> did: the restored copy and its counts, and, with --replace, the name the previous database is kept under.</summary>
public sealed record RestoreOutcome(RestoreResult Result, string Source, string? ReplacedAs)
{
    /// <summary>The database that now holds the restored data.</summary>
    public string Database => ReplacedAs is null ? Result.Database : Source;
}

/// <summary>
/// <c>restore --from FILE</c>: checks the dump against its manifest before touching any database,
/// restores into a NEW database (default <c>&lt;db&gt;_restore_&lt;time&gt;</c>), compares row counts.
/// With <c>replace</c> the restored copy takes the source database's place (the source is kept,
/// renamed, never dropped). Refused (exit 3): a dump that does not match its manifest, or a target
/// that exists; exit 4: pg_restore failed.
/// </summary>
public static class Restoring
{
    /// <summary>Checks the dump against its manifest; a doubt is a refusal (exit 3) before any database exists.</summary>
    public static async Task<JsonObject> CheckAsync(string dump, CancellationToken cancellationToken)
    {
        try
        {
            return await BackupRestorer.CheckAsync(dump, cancellationToken);
        }
        catch (RestoreRefused refused)
        {
            throw new PreflightFailed(refused.Message);
        }
    }

    /// <summary>
    /// The restore. With <paramref name="replace"/> it shows its plan (<paramref name="showPlan"/>:
    /// the database it replaces, at the versions it has now), then takes the migration lock on that
    /// database, like every writer (another run holding it: exit 7), and holds it until the swap ends
    /// that database's sessions, so no migration can change (or be committed to) the database that
    /// is being put aside. A migration that committed while it waited for the lock changed the
    /// database its plan showed: refused (exit 3) before anything is restored, as <c>migrate</c> does.
    /// </summary>
    public static async Task<RestoreOutcome> RunAsync(
        ConnectionTarget server, string dump, string? targetDatabase, bool replace, bool showProgress, TimeSpan lockTimeout, Action<string> showPlan, CancellationToken cancellationToken)
    {
        var manifest = await CheckAsync(dump, cancellationToken);
        var stamp = DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        var source = manifest["database"]?.GetValue<string>() ?? server.Database;
        var target = replace ? Identifiers.Derived(source, $"_incoming_{stamp}") : targetDatabase ?? Identifiers.Derived(source, $"_restore_{stamp}");
        if (!Identifiers.Fits(target))
        {
            throw new ConfigurationException($"--target-db {target} is longer than the {Identifiers.MaxBytes} bytes PostgreSQL keeps of a name");
        }

        await using var database = new MigrationDatabase(server);
        await using (var maintenance = BackupRestorer.Maintenance(database))
        {
            // pg_restore sets session settings and --replace renames databases: not through a transaction pooler.
            await LockStage.RefuseATransactionPoolerAsync(maintenance, cancellationToken);
        }

        await using var lockOnSource = replace
            ? new RunContext(new RunOptions { CommandName = "restore", Target = server.WithDatabase(source), LockTimeout = lockTimeout })
            : null;
        await using var held = new RunResults();
        if (lockOnSource is not null)
        {
            IReadOnlyList<long> shown;
            await using (var connection = await LockStage.ConnectAsync(lockOnSource.Database, Roles.Preview, cancellationToken))
            {
                shown = await VersionHistory.ReadAppliedAsync(connection, cancellationToken);
            }

            showPlan($"restore --replace on database \"{source}\" ({AtVersion(shown)}): the dump's copy takes its place once restored and verified; the database as it is now is kept, renamed {source}_replaced_<time>");
            await LockStage.RunAsync(lockOnSource, held.Keep, cancellationToken);
            var now = await VersionHistory.ReadAppliedAsync(held.Session!.Connection, cancellationToken);
            if (!now.SequenceEqual(shown))
            {
                throw new PreflightFailed(
                    $"the database \"{source}\" changed since its plan was shown ({AtVersion(shown)}; now {AtVersion(now)}: a migration committed while the restore waited for the migration lock): " +
                    "nothing was restored or replaced; check that the restore is still wanted, then run the command again");
            }
        }

        var result = await IntoNewDatabaseAsync(database, dump, manifest, target, showProgress, "restore: tables loaded", cancellationToken);
        string? replacedAs = null;
        if (replace && result.Mismatches.Count == 0)
        {
            replacedAs = Identifiers.Derived(source, $"_replaced_{stamp}");
            try
            {
                await BackupRestorer.ReplaceAsync(database, source, target, replacedAs, cancellationToken);
            }
            catch (RestoreRefused refused)
            {
                throw new PreflightFailed(refused.Message);
            }
        }

        return new RestoreOutcome(result, source, replacedAs);
    }

    private static string AtVersion(IReadOnlyList<long> applied) =>
        applied.Count == 0 ? "no migration history" : $"at version {applied.Max().ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Restores <paramref name="dump"/> into the new database <paramref name="target"/> (also
    /// rehearse's scratch copy): one that exists is a refusal (exit 3, <see cref="RestoreTargetExists"/>),
    /// a failed pg_restore is exit 4 (the new database dropped again).
    /// </summary>
    public static async Task<RestoreResult> IntoNewDatabaseAsync(
        MigrationDatabase server, string dump, JsonObject manifest, string target, bool showProgress, string title, CancellationToken cancellationToken)
    {
        var pgRestore = PgTools.Find("pg_restore") ?? throw new PreflightFailed("pg_restore not found on PATH");
        var restorer = new BackupRestorer(pgRestore);
        try
        {
            return showProgress
                ? await ProgressDisplay.RunAsync(title, 1, progress => restorer.RestoreAsync(server, dump, manifest, target, cancellationToken, progress))
                : await restorer.RestoreAsync(server, dump, manifest, target, cancellationToken);
        }
        catch (RestoreRefused refused)
        {
            throw new RestoreTargetExists(refused.Message);
        }
        catch (RestoreFailed failed)
        {
            throw new BackupFailed(failed.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C / SIGTERM: pg_restore was stopped; the half-restored database is not left behind.
            using var dropping = new CancellationTokenSource(TimeSpan.FromSeconds(8));
            await BackupRestorer.DropAsync(server, target, dropping.Token);
            throw new Interrupted($"the restore into \"{target}\"", ExitCodes.BackupFailed, "; the partly restored database was dropped");
        }
    }
}

/// <summary>The database a restore was to create exists already (exit 3): it is not the restore's to drop.</summary>
public sealed class RestoreTargetExists(string message) : PipelineStopped(message, ExitCodes.Refused, LogStatuses.Refused);
