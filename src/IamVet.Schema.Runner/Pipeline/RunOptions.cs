namespace IamVet.Schema.Runner.Pipeline;

/// <summary>Everything the operator asked for, parsed and validated by the CLI layer.</summary>
public sealed record RunOptions
{
    /// <summary>The command as typed, e.g. "migrate up", for migration_log and the report.</summary>
    public required string CommandName { get; init; }

    /// <summary>The database, resolved once from --connection, the environment or appsettings.</summary>
    public required ConnectionTarget Target { get; init; }

    public MigrationDirection Direction { get; init; } = MigrationDirection.Up;

    public long? TargetVersion { get; init; }

    public int? Steps { get; init; }

    /// <summary>Flags that unlock gated migrations, e.g. "--cleanup".</summary>
    public IReadOnlyCollection<string> Flags { get; init; } = [];

    public string BackupDirectory { get; init; } = "backups";

    public bool NoBackup { get; init; }

    public bool Yes { get; init; }

    public bool Json { get; init; }

    /// <summary>How long to wait for the migration lock, and PostgreSQL's lock_timeout for the migration's own locks.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>PostgreSQL statement_timeout for the migration connection; zero means none.</summary>
    public TimeSpan StatementTimeout { get; init; } = TimeSpan.Zero;

    /// <summary>Refuse (instead of warning) when other sessions are connected to the database.</summary>
    public bool RequireIdle { get; init; }

    /// <summary>Free bytes the backup directory must have; null: estimated from the database size.</summary>
    public long? MinFreeBytes { get; init; }

    /// <summary>Where <see cref="MinFreeBytes"/> came from (a flag, an environment variable, appsettings.json), for the refusal's message.</summary>
    public string MinFreeBytesSource { get; init; } = "--min-free-space";

    /// <summary>
    /// A rollback may overwrite what an old application wrote to the legacy side after the up (the
    /// new tables win; <c>--overwrite-legacy-writes</c>); otherwise such writes refuse it (docs/adr/0007).
    /// </summary>
    public bool OverwriteLegacyWrites { get; init; }

    /// <summary>
    /// An empty database (no migration history, no users table) may get the legacy schema created
    /// (<c>--create-legacy-schema</c>); without it such a database is refused: it is more likely a
    /// mistyped database name than a database to build.
    /// </summary>
    public bool CreateLegacySchema { get; init; }

    /// <summary>The plan the operator was shown (and confirmed); the run refuses if the database now plans differently.</summary>
    public MigrationPlan? ShownPlan { get; init; }

    /// <summary>
    /// The way to the server as the pooler check before the plan found it (<c>migrate</c>: a
    /// transaction pooler was refused there); the lock stage checks only when this is null.
    /// </summary>
    public PoolerVerdict? CheckedRoute { get; init; }

    /// <summary>Read-only run: lock, pre-flight and audit only (the <c>check</c> command).</summary>
    public bool CheckOnly { get; init; }
}
