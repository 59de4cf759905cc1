using System.Data;

namespace IamVet.Schema.Migrations.Infrastructure;

/// <summary>
/// The point inside a migration where its data phase ends and its last statements, those that take
/// ACCESS EXCLUSIVE on users, begin (docs/adr/0006). Until here, readers of users are never blocked;
/// from here to COMMIT nobody can read it. A runner that reads the same tables from other
/// connections while the migration runs (verification, audit) registers an implementation in
/// FluentMigrator's service provider: <see cref="Enter"/> must finish everything those connections
/// read, and may throw to roll the migration back. Without one, passing the gate does nothing.
/// </summary>
public interface IExclusiveLockGate
{
    /// <summary>Called on the migration's own connection and transaction, after the data phase.</summary>
    void Enter(IDbConnection connection, IDbTransaction? transaction);

    /// <summary>
    /// Runs <paramref name="statements"/>, the migration's statements that lock users ACCESS
    /// EXCLUSIVE (after <see cref="Enter"/>), on its own connection and transaction. By default at
    /// once; a runner may instead hold them back to the end of its plan, just before COMMIT, so that
    /// nothing else of the plan (FluentMigrator's bookkeeping, the other migrations) runs while
    /// users is locked, running them earlier only before a migration that is
    /// <see cref="ILocksUsersThroughout"/> (docs/adr/0009).
    /// </summary>
    void RunExclusive(IDbConnection connection, IDbTransaction? transaction, Action<IDbConnection, IDbTransaction?> statements) =>
        statements(connection, transaction);
}

/// <summary>
/// A migration that locks users ACCESS EXCLUSIVE from its first statement, in either direction (it
/// alters users throughout: the cleanup drops or re-adds its columns), so it has no data phase for
/// readers and no gate. A runner that holds other migrations' exclusive statements back
/// (<see cref="IExclusiveLockGate.RunExclusive"/>) runs them before such a migration starts: it may
/// depend on them (the cleanup drops the realName the expand migration's last statement alters).
/// </summary>
public interface ILocksUsersThroughout;
