namespace IamVet.Schema.Migrations.Infrastructure;

/// <summary>
/// A migration whose Down leaves its last steps for after its COMMIT, each in a short transaction
/// of its own (docs/adr/0008, 0009): steps that, under the ACCESS EXCLUSIVE lock the Down already
/// holds on users, would keep users unreadable while they run (scanning the table, unlinking the
/// files of dropped tables). The runner runs them right after the Down commits, and again on every
/// <c>migrate down</c> while they are pending; each is idempotent (nothing to do once done). Until
/// they have run, the database is at the version below this migration, with what the steps
/// complete enforced for every new row in the meantime.
/// </summary>
public interface IFinishesDownAfterCommit
{
    /// <summary>The steps, in order: SQL run each in a transaction of its own; each does nothing when not pending.</summary>
    IReadOnlyList<string> FinishDownSteps { get; }

    /// <summary>A query returning one boolean: whether the step is pending.</summary>
    string DownPendingSql { get; }

    /// <summary>What is pending, in a few words, for <c>status</c> and the run's message.</summary>
    string DownPendingDescription { get; }

    /// <summary>What the step did, in a few words, for the run's report.</summary>
    string DownFinishedDescription { get; }
}
