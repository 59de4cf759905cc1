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
    /// once; a runner may instead run them at the end of its plan, just before COMMIT, so that
    /// nothing else of the plan (FluentMigrator's bookkeeping, the Downs of the migrations below)
    /// runs while users is locked (docs/adr/0009).
    /// </summary>
    void RunExclusive(IDbConnection connection, IDbTransaction? transaction, Action<IDbConnection, IDbTransaction?> statements) =>
        statements(connection, transaction);
}
