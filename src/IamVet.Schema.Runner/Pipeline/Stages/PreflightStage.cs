using Npgsql;

namespace IamVet.Schema.Runner.Pipeline.Stages;

/// <summary>What pre-flight established: the server, the applied versions and (for a migrating run) the plan.</summary>
public sealed record PreflightFacts(string ServerVersion, int ServerMajor, IReadOnlyList<long> AppliedBefore, MigrationPlan? Plan);

/// <summary>
/// Everything the runbook asked the operator to check by hand, before anything changes: the
/// server and its version, the migration history (a legacy database without one is sent to
/// <c>baseline</c>), the plan, the privileges it needs, pg_dump/pg_restore at least as new as the
/// server, free space for the dump, and other sessions on the database.
/// </summary>
public static class PreflightStage
{
    /// <summary>Free space wanted beyond the estimated dump size.</summary>
    private const double SpaceMargin = 1.2;

    /// <summary>Every table a plan may read or change (the privileges and row-level security are checked on these).</summary>
    internal static readonly string[] TouchedTables =
    [
        "users", "hospital_animals", "hospital_specialties", "hospital_facility_images", "hospital_business_licenses", "migration_log",
        "veterinarians", "veterinary_students", "hospitals", "hospital_images", "hospital_treatment_animals",
        "hospital_treatment_specialties", "VersionInfo", "iamvet_rollback_stash",
    ];

    public const string Name = "Pre-flight";

    /// <summary>The oldest PostgreSQL the runner runs on (the verification's hash_record_extended; client_connection_check_interval).</summary>
    public const int MinimumServerMajor = 14;

    public static async Task<StageOutput<PreflightFacts>> RunAsync(RunContext context, LockedSession session, CancellationToken cancellationToken)
    {
        var connection = session.Connection;
        var notes = new List<string>();
        var warn = false;

        var (serverVersion, serverMajor) = await ServerAsync(connection, cancellationToken);
        notes.Add($"PostgreSQL {serverVersion} at {context.Options.Target.Server}/{context.DatabaseName}");
        if (serverMajor < MinimumServerMajor)
        {
            // The verification hashes rows with hash_record_extended, and a killed run's backend is noticed by client_connection_check_interval (both 14).
            throw new PreflightFailed($"PostgreSQL {serverVersion} is too old: the runner needs {MinimumServerMajor} or newer");
        }

        IReadOnlyList<long> applied;
        try
        {
            applied = await VersionHistory.ReadAppliedAsync(connection, cancellationToken);
        }
        catch (PostgresException denied) when (denied.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            // The first read that needs a table privilege: list everything the role lacks, not just this one.
            await CheckPrivilegesAsync(connection, cancellationToken);
            throw new PreflightFailed($"cannot read the migration history: {denied.MessageText}", denied);
        }

        if (applied.Count == 0 && await Sql.TableExistsAsync(connection, "users", cancellationToken))
        {
            throw new PreflightFailed(
                $"database \"{context.DatabaseName}\" has the legacy tables but no migration history (no VersionInfo): " +
                "adopt it first with `baseline`, which checks its shape and records the legacy baseline as applied");
        }

        if (applied.Count == 0 && context.Options.Direction == MigrationDirection.Up && !context.Options.CreateLegacySchema
            && !await Sql.TableExistsAsync(connection, "users", cancellationToken))
        {
            throw new PreflightFailed(EmptyDatabaseRefusal(context.DatabaseName));
        }

        var plan = Plan(context.Options, applied);
        var facts = new PreflightFacts(serverVersion, serverMajor, applied, plan);
        notes.Add(plan.IsEmpty
            ? $"nothing to do: at {plan.FromVersion?.ToString(CultureInfo.InvariantCulture) ?? "no version"}"
            : $"plan: {plan.Direction.ToString().ToLowerInvariant()} {plan.Steps.Count} migration(s), {plan.FromVersion?.ToString(CultureInfo.InvariantCulture) ?? "empty"} → {plan.ResultVersion}");
        if (plan.IsEmpty && !context.Options.CheckOnly)
        {
            return new(facts, new StageResult(Name, StageStatus.Pass, TimeSpan.Zero, "nothing to do", notes));
        }

        await CheckWritableAsync(connection, cancellationToken);
        await CheckPrivilegesAsync(connection, cancellationToken);
        await CheckRowSecurityAsync(connection, cancellationToken);
        notes.Add("privileges: CREATE on schema public, TEMPORARY on the database, owner of every table the plan alters; no row-level security hides a row");

        if (context.Options.NoBackup)
        {
            warn = true;
            notes.Add("--no-backup: pg_dump, pg_restore and free space not checked; there will be no restore point");
        }
        else
        {
            notes.Add(CheckTools(serverVersion, serverMajor));
            notes.Add(await CheckBackupSpaceAsync(context.Options, connection, cancellationToken));
        }

        var others = await OtherSessionsAsync(connection, cancellationToken);
        if (others.Count > 0)
        {
            var list = string.Join("; ", others.Take(10));
            if (context.Options.RequireIdle)
            {
                throw new PreflightFailed($"{others.Count} other session(s) are connected to \"{context.DatabaseName}\" and --require-idle was given: {list}. Stop the application first.");
            }

            warn = true;
            notes.Add($"{others.Count} other session(s) connected (the runbook stops the application first; --require-idle refuses): {list}");
        }

        return new(facts, new StageResult(Name, warn ? StageStatus.Warn : StageStatus.Pass, TimeSpan.Zero,
            $"PostgreSQL {serverVersion}; {plan.Steps.Count} migration(s) to run", notes));
    }

    /// <summary>Why an empty database is refused without <c>--create-legacy-schema</c>.</summary>
    public static string EmptyDatabaseRefusal(string database) =>
        $"database \"{database}\" is empty (no users table, no migration history): it is not a legacy iamvet database. " +
        "Check the database name; to build the legacy schema here on purpose (a test or a new environment), add --create-legacy-schema";

    /// <summary>
    /// The pre-flight of a backup on its own (<c>backup</c>, <c>rehearse</c>): server version, the
    /// applied versions (for the dump's label), pg_dump/pg_restore and free space.
    /// </summary>
    public static async Task<StageOutput<PreflightFacts>> RunForBackupAsync(RunContext context, LockedSession session, CancellationToken cancellationToken)
    {
        var connection = session.Connection;
        var (serverVersion, serverMajor) = await ServerAsync(connection, cancellationToken);
        var applied = await VersionHistory.ReadAppliedAsync(connection, cancellationToken);
        return new(new PreflightFacts(serverVersion, serverMajor, applied, null),
            new StageResult(Name, StageStatus.Pass, TimeSpan.Zero, $"PostgreSQL {serverVersion}",
                [CheckTools(serverVersion, serverMajor), await CheckBackupSpaceAsync(context.Options, connection, cancellationToken)]));
    }

    private static async Task<(string Version, int Major)> ServerAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        (await Sql.ScalarAsync<string>(connection, "SHOW server_version", cancellationToken),
         int.Parse(await Sql.ScalarAsync<string>(connection, "SHOW server_version_num", cancellationToken), CultureInfo.InvariantCulture) / 10000);

    private static MigrationPlan Plan(RunOptions options, IReadOnlyList<long> applied)
    {
        try
        {
            return options.Direction == MigrationDirection.Up
                ? MigrationPlanner.PlanUp(applied, options.TargetVersion, options.Flags)
                : MigrationPlanner.PlanDown(applied, options.TargetVersion, options.Steps);
        }
        catch (UnknownAppliedVersionsException ex)
        {
            throw new PreflightFailed(ex.Message);
        }
        catch (MigrationPlanningException ex)
        {
            throw new ConfigurationException(ex.Message);
        }
    }

    /// <summary>
    /// A standby, or a role (or database) whose sessions are read-only by default, would let every
    /// read of pre-flight and the audit pass and stop the run at its first write: said here instead.
    /// </summary>
    private static async Task CheckWritableAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (await Sql.ScalarAsync<bool>(connection, "SELECT pg_is_in_recovery()", cancellationToken))
        {
            throw new PreflightFailed("the server is a standby (read-only, in recovery): connect to the primary");
        }

        if (await Sql.ScalarAsync<string>(connection, "SHOW default_transaction_read_only", cancellationToken) == "on")
        {
            var role = await Sql.ScalarAsync<string>(connection, "SELECT current_user::text", cancellationToken);
            throw new PreflightFailed(
                $"sessions of role \"{role}\" are read-only by default (default_transaction_read_only = on, set for the role, the database or the server), " +
                "and a migration writes: connect as a role that may write, or lift the setting for the window " +
                $"(ALTER ROLE \"{role}\" SET default_transaction_read_only = off)");
        }
    }

    private static async Task CheckPrivilegesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT 'CREATE on schema public' WHERE NOT has_schema_privilege('public', 'CREATE')
            UNION ALL
            -- Temporary tables: the Downs' change lists, the verification readers' copy of the HOSPITAL users.
            SELECT format('TEMPORARY on database %I', current_database()) WHERE NOT has_database_privilege(current_database(), 'TEMPORARY')
            UNION ALL
            SELECT format('owner of %I (needed to ALTER it; owner is %s)', c.relname, pg_get_userbyid(c.relowner))
            FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relname = ANY(@tables)
              AND NOT pg_has_role(current_user, c.relowner, 'USAGE')
            UNION ALL
            SELECT format('SELECT, INSERT, UPDATE, DELETE on %I', c.relname)
            FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relname = ANY(@tables)
              AND NOT has_table_privilege(c.oid, 'SELECT, INSERT, UPDATE, DELETE')
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("tables", TouchedTables);
        var missing = await Sql.ColumnAsync(command, cancellationToken);
        if (missing.Count > 0)
        {
            var role = await Sql.ScalarAsync<string>(connection, "SELECT current_user::text", cancellationToken);
            throw new PreflightFailed($"role \"{role}\" lacks privileges the plan needs: {string.Join("; ", missing)}");
        }
    }

    /// <summary>Refuses (exit 3) when row-level security would hide rows of a table the plan touches from this role.</summary>
    internal static async Task CheckRowSecurityAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var affected = await RowSecurity.AffectingAsync(connection, TouchedTables, cancellationToken);
        if (affected.Count > 0)
        {
            var role = await Sql.ScalarAsync<string>(connection, "SELECT current_user::text", cancellationToken);
            throw new PreflightFailed(RowSecurity.Refusal(role, affected)!);
        }
    }

    /// <summary>Where the refusals about pg_dump/pg_restore send the operator.</summary>
    private const string HowToGetTheClient =
        "the runbook's section \"Managed PostgreSQL\", docs/runbook.md, says how on Debian/Ubuntu, with the official container image and on macOS";

    private static string CheckTools(string serverVersion, int serverMajor)
    {
        var found = new List<string>();
        foreach (var name in new[] { "pg_dump", "pg_restore" })
        {
            var tool = PgTools.Find(name)
                ?? throw new PreflightFailed($"{name} not found on PATH: install the PostgreSQL client (postgresql-client-{serverMajor} or newer; {HowToGetTheClient}), or pass --no-backup to run without a restore point");
            if (tool.Major < serverMajor)
            {
                throw new PreflightFailed(
                    $"{name} {tool.Version} ({tool.Path}) is older than the server (PostgreSQL {serverVersion}): it cannot dump this server reliably. " +
                    $"Install postgresql-client-{serverMajor} or newer and put it first on PATH ({HowToGetTheClient})");
            }

            found.Add($"{name} {tool.Version}");
        }

        return string.Join(", ", found);
    }

    private static async Task<string> CheckBackupSpaceAsync(RunOptions options, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var directory = Path.GetFullPath(options.BackupDirectory);
        try
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var probe = Path.Combine(directory, $".write-probe-{Environment.ProcessId}");
            await File.WriteAllTextAsync(probe, "", cancellationToken);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PreflightFailed($"backup directory {directory} is not writable: {ex.Message}");
        }

        var estimate = await Sql.ScalarAsync<long>(connection, """
            SELECT coalesce(sum(pg_table_size(c.oid)), 0)::bigint FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'm')
            """, cancellationToken);
        var required = options.MinFreeBytes ?? (long)(estimate * SpaceMargin);
        var free = new DriveInfo(directory).AvailableFreeSpace;
        if (free < required)
        {
            throw new PreflightFailed(
                $"not enough free space for the backup in {directory}: {Sizes.Bytes(free)} free, {Sizes.Bytes(required)} needed " +
                $"(estimated dump size {Sizes.Bytes(estimate)} with margin{(options.MinFreeBytes is null ? "" : $"; set by {options.MinFreeBytesSource}")})");
        }

        return $"backup directory {directory}: {Sizes.Bytes(free)} free, {Sizes.Bytes(required)} needed";
    }

    private static async Task<List<string>> OtherSessionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT format('pid %s %s%s%s', pid, coalesce(nullif(application_name, ''), '(no application name)'),
                          coalesce(' user ' || usename::text, ''), coalesce(' from ' || client_addr::text, ''))
            FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()
              -- another role's session shows no backend_type to a role without pg_read_all_stats (the owner role):
              -- a session with a user is a client's all the same (autovacuum workers have none)
              AND (backend_type = 'client backend' OR (backend_type IS NULL AND usesysid IS NOT NULL))
              AND application_name NOT LIKE 'iamvet-schema%'
            ORDER BY pid
            """, connection);
        return await Sql.ColumnAsync(command, cancellationToken);
    }
}
