using IamVet.Schema.Migrations.Infrastructure;
using Npgsql;

namespace IamVet.Schema.Runner.Engine;

/// <summary>
/// The steps rollbacks leave for after their COMMIT (<see cref="IFinishesDownAfterCommit"/>,
/// docs/adr/0008, 0009): which are pending in a database, and running them, each in a transaction of its own.
/// </summary>
public static class AfterCommit
{
    /// <summary>The steps pending in the database of <paramref name="connection"/>, in version order.</summary>
    public static async Task<IReadOnlyList<(MigrationStep Step, IFinishesDownAfterCommit Finish)>> PendingAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var pending = new List<(MigrationStep, IFinishesDownAfterCommit)>();
        foreach (var finisher in MigrationCatalog.DownFinishers)
        {
            if (await Sql.ScalarAsync<bool>(connection, finisher.Finish.DownPendingSql, cancellationToken))
            {
                pending.Add(finisher);
            }
        }

        return pending;
    }

    /// <summary>
    /// Runs <paramref name="finish"/>'s steps in order, each in a transaction of its own, so that
    /// no step holds the locks of the one before while it commits (they do nothing when not pending).
    /// </summary>
    public static async Task RunAsync(NpgsqlConnection connection, IFinishesDownAfterCommit finish, CancellationToken cancellationToken)
    {
        foreach (var step in finish.FinishDownSteps)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await Sql.ExecuteAsync(connection, step, cancellationToken, transaction);
            await transaction.CommitAsync(cancellationToken);
        }
    }
}
