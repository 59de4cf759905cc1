namespace IamVet.Schema.Runner.Pipeline;

/// <summary>The runner's documented exit codes (docs/cli.md). Scripts depend on them: never renumber.</summary>
public static class ExitCodes
{
    /// <summary>Done, or nothing to do.</summary>
    public const int Success = 0;

    /// <summary>An unexpected error (a bug, or a failure no stage anticipated).</summary>
    public const int Unexpected = 1;

    /// <summary>Usage or configuration error: bad option, no/malformed connection string, a declined confirmation. Nothing touched.</summary>
    public const int Usage = 2;

    /// <summary>Refused by pre-flight or the data audit. Nothing changed.</summary>
    public const int Refused = 3;

    /// <summary>The backup failed. Nothing changed.</summary>
    public const int BackupFailed = 4;

    /// <summary>A migration failed; the transaction was rolled back.</summary>
    public const int MigrationFailed = 5;

    /// <summary>Verification found a mismatch; the transaction was rolled back.</summary>
    public const int VerificationFailed = 6;

    /// <summary>Another run holds the migration lock.</summary>
    public const int Locked = 7;

    /// <summary>
    /// The run's work is done (a migration committed and verified, or nothing to do), but its
    /// migration_log row could not be completed afterwards: the bookkeeping failed. A committed
    /// migration's row already says it committed (written in its own transaction).
    /// </summary>
    public const int LogNotCompleted = 8;

    /// <summary>
    /// A rollback committed and was verified, but the last step it leaves for after COMMIT (making
    /// users."realName" NOT NULL again, docs/adr/0008) did not run: the message says why. Nothing is
    /// lost; run <c>migrate down</c> again to finish it.
    /// </summary>
    public const int FinishPending = 9;
}
