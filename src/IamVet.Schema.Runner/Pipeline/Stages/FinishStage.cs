using System.Diagnostics;
using Npgsql;

namespace IamVet.Schema.Runner.Pipeline.Stages;

/// <summary>What the Finish stage completed: one note per step.</summary>
public sealed record FinishOutcome(IReadOnlyList<string> Finished);

/// <summary>
/// After a rollback's COMMIT: the last step its migrations leave for a short transaction of their
/// own (<see cref="AfterCommit"/>, docs/adr/0008), e.g. users."realName" NOT NULL
/// again without scanning users under ACCESS EXCLUSIVE. Also what <c>migrate down</c> does when a
/// step is still pending from an earlier rollback (a run killed between its COMMIT and this).
/// Waits for locks no longer than the migration does; a step that fails is exit 9, with the
/// rollback itself committed.
/// </summary>
public static class FinishStage
{
    public const string Name = "Finish";

    public static async Task<StageOutput<FinishOutcome>> RunAsync(RunContext context, MigrationPlan plan, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var notes = new List<string>();
        await using var connection = await context.Database.OpenAsync(Roles.Migrate, cancellationToken);
        foreach (var (step, finish) in await AfterCommit.PendingAsync(connection, cancellationToken))
        {
            var one = Stopwatch.StartNew();
            try
            {
                await AfterCommit.RunAsync(connection, finish, cancellationToken);
            }
            catch (Exception failure) when (failure is PostgresException or OperationCanceledException)
            {
                var why = failure is OperationCanceledException or PostgresException { SqlState: PostgresErrorCodes.QueryCanceled } && cancellationToken.IsCancellationRequested
                    ? "interrupted (Ctrl-C or SIGTERM)"
                    : failure is PostgresException { SqlState: PostgresErrorCodes.LockNotAvailable }
                    ? $"gave up waiting for a lock on users after --lock-timeout {SettingValues.FormatDuration(context.Options.LockTimeout)} " +
                      $"(blocked by {await TableLockHolders.DescribeAsync(connection, CancellationToken.None)})"
                    : failure is PostgresException error ? error.MessageText + (error.Hint is null ? "" : $" (hint: {error.Hint})") : failure.Message;
                throw new FinishPending(
                    $"{(plan.IsEmpty ? "nothing to roll back" : $"the rollback committed and was verified, now at {plan.ResultVersion}")}; " +
                    $"but its last step did not run ({step.Version}: {finish.DownPendingDescription}): {why}. Nothing is lost: run migrate down again to finish it", failure);
            }

            notes.Add($"{step.Version}  {finish.DownFinishedDescription}, in {one.Elapsed.TotalSeconds:0.00} s");
        }

        var summary = notes.Count == 0 ? "nothing left to finish" : $"{notes.Count} step(s) after COMMIT done";
        return new(new FinishOutcome(notes), new StageResult(Name, StageStatus.Pass, clock.Elapsed, summary, notes));
    }
}
