namespace IamVet.Schema.Runner.Pipeline;

/// <summary>
/// A stage stopped the run for a reason it understands. Each outcome maps to one documented exit
/// code and one migration_log status; the message is shown as is (it never contains a password).
/// </summary>
public abstract class PipelineStopped(string message, int exitCode, string logStatus, Exception? inner = null)
    : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>The migration_log status this outcome is recorded with.</summary>
    public string LogStatus { get; } = logStatus;

    /// <summary>Details the stopping stage shows under its result (e.g. the audit's warnings beside the finding that refused the run).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>Pre-flight or the data audit refused the run; nothing changed (exit 3).</summary>
public sealed class PreflightFailed(string message, Exception? inner = null)
    : PipelineStopped(message, ExitCodes.Refused, LogStatuses.Refused, inner);

/// <summary>The backup could not be taken or proven; nothing changed (exit 4).</summary>
public sealed class BackupFailed(string message, Exception? inner = null)
    : PipelineStopped(message, ExitCodes.BackupFailed, LogStatuses.Failed, inner);

/// <summary>A migration failed and its transaction was rolled back (exit 5).</summary>
public sealed class MigrationFailed(string message, Exception? inner = null)
    : PipelineStopped(message, ExitCodes.MigrationFailed, LogStatuses.RolledBack, inner);

/// <summary>Verification found a mismatch; the transaction was rolled back (exit 6).</summary>
public sealed class VerificationFailed(string message, Stages.VerifyReport report)
    : PipelineStopped(message, ExitCodes.VerificationFailed, LogStatuses.RolledBack)
{
    /// <summary>What the verification found, shown as its own stage after Migrate.</summary>
    public Stages.VerifyReport Report { get; } = report;
}

/// <summary>The data audit found rows the migration cannot take; nothing changed (exit 3).</summary>
public sealed class AuditRefused(string message, Stages.AuditReport report)
    : PipelineStopped(message, ExitCodes.Refused, LogStatuses.Refused)
{
    /// <summary>Every finding, the warnings too (they are the next thing to fix).</summary>
    public Stages.AuditReport Report { get; } = report;
}

/// <summary>
/// Ctrl-C or SIGTERM stopped the run before the migration; what the stage had started (a pg_dump,
/// a query) was stopped with it and nothing changed. Logged ABORTED, with the exit code of a
/// failure of that stage (4 in the backup, 3 before it).
/// </summary>
public sealed class Interrupted(string stage, int exitCode, string detail = "")
    : PipelineStopped($"interrupted (Ctrl-C or SIGTERM) during {stage}{detail}; nothing changed", exitCode, LogStatuses.Aborted);

/// <summary>
/// A rollback committed (logged SUCCESS), but the step it leaves for after COMMIT did not run
/// (exit 9): the database is at the version below, with a constraint NOT VALID where NOT NULL
/// belongs; <c>migrate down</c> finishes it.
/// </summary>
public sealed class FinishPending(string message, Exception? inner = null)
    : PipelineStopped(message, ExitCodes.FinishPending, LogStatuses.Success, inner);

/// <summary>Another run holds the migration lock (exit 7).</summary>
public sealed class LockHeld(string message)
    : PipelineStopped(message, ExitCodes.Locked, LogStatuses.Refused);

/// <summary>The statuses a migration_log row can have (the CHECK constraint of the audit columns).</summary>
public static class LogStatuses
{
    public const string Running = "RUNNING";
    public const string Success = "SUCCESS";
    public const string Failed = "FAILED";
    public const string RolledBack = "ROLLED_BACK";
    public const string Refused = "REFUSED";
    public const string NothingToDo = "NOTHING_TO_DO";
    public const string Aborted = "ABORTED";
}
