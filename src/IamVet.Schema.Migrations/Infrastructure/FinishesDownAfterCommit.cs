namespace IamVet.Schema.Migrations.Infrastructure;

/// <summary>
/// A migration whose Down leaves one last step for after its COMMIT, in a short transaction of its
/// own (docs/adr/0008): a step that, under the ACCESS EXCLUSIVE lock the Down already holds on
/// users, would keep users unreadable while it scans the table. The runner runs it right after
/// the Down commits, and again on every <c>migrate down</c> while it is pending; it is idempotent
/// (nothing to do once done). Until it has run, the database is at the version below this
/// migration, with what the step completes enforced for every new row in the meantime.
/// </summary>
public interface IFinishesDownAfterCommit
{
    /// <summary>The step: SQL run in one transaction; does nothing when not pending.</summary>
    string FinishDownSql { get; }

    /// <summary>A query returning one boolean: whether the step is pending.</summary>
    string DownPendingSql { get; }

    /// <summary>What is pending, in a few words, for <c>status</c> and the run's message.</summary>
    string DownPendingDescription { get; }

    /// <summary>What the step did, in a few words, for the run's report.</summary>
    string DownFinishedDescription { get; }
}
