namespace IamVet.Schema.Runner.Operations;

/// <summary>
/// <c>rehearse --on-copy</c>: before anything runs there, proves that the copy is not the source
/// itself and that it stands where the source stands (docs/adr/0015). A copy made by a Neon branch
/// or a restored snapshot keeps the source's system identifier, its database OIDs and its data, so
/// none of those can tell them apart; a session advisory lock taken on the source can: only the
/// source's own database on the source's own server shows it in <c>pg_locks</c>. Nothing is
/// written to either database.
/// </summary>
public static class RehearsalCopy
{
    /// <summary>
    /// Refuses (exit 3) a copy that is the source (by name, then by the advisory lock) or that is at
    /// other versions than the source. Returns the versions both are at.
    /// </summary>
    public static async Task<IReadOnlyList<long>> CheckAsync(ConnectionTarget source, ConnectionTarget copy, CancellationToken cancellationToken)
    {
        if (SameByName(source, copy))
        {
            throw new PreflightFailed(
                $"--on-copy names the source database itself ({copy.Database} at {copy.Server}): rehearse runs migrate up and down on the copy, " +
                "so it must be a copy (a Neon branch, a restored snapshot): give the copy's connection string");
        }

        await using var sourceDatabase = new MigrationDatabase(source);
        await using var copyDatabase = new MigrationDatabase(copy);
        await using var sourceConnection = await LockStage.ConnectAsync(sourceDatabase, Roles.Lock, cancellationToken);
        await using var copyConnection = await LockStage.ConnectAsync(copyDatabase, Roles.Lock, cancellationToken);

        // A random key (numbers written into the SQL: nothing from outside): no other session holds it,
        // so a lock with it in pg_locks is this check's own.
        var key = Random.Shared.NextInt64(long.MinValue, long.MaxValue);
        var (keyText, high, low) = (key.ToString(CultureInfo.InvariantCulture), ((uint)(key >> 32)).ToString(CultureInfo.InvariantCulture), ((uint)key).ToString(CultureInfo.InvariantCulture));
        if (!await Sql.ScalarAsync<bool>(sourceConnection, $"SELECT pg_try_advisory_lock({keyText})", cancellationToken))
        {
            throw new PreflightFailed("could not take a session advisory lock on the source to tell it from the copy (a random key another session holds?): run rehearse again");
        }

        try
        {
            // A bigint key shows as classid = its high 32 bits, objid = its low 32 bits, objsubid = 1.
            var seen = await Sql.ScalarAsync<bool>(copyConnection, $"""
                SELECT EXISTS (
                    SELECT FROM pg_locks
                    WHERE locktype = 'advisory' AND classid = {high} AND objid = {low} AND objsubid = 1
                      AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))
                """, cancellationToken);
            if (seen)
            {
                throw new PreflightFailed(
                    $"--on-copy reaches the source database itself ({copy.Database} at {copy.Server} is the same database on the same server as " +
                    $"{source.Database} at {source.Server}: it sees a lock held on the source): rehearse runs migrate up and down on the copy, " +
                    "so it must be a copy (a Neon branch, a restored snapshot): give the copy's connection string");
            }
        }
        finally
        {
            await Sql.ScalarAsync<bool>(sourceConnection, $"SELECT pg_advisory_unlock({keyText})", CancellationToken.None);
        }

        var sourceVersions = await VersionHistory.ReadAppliedAsync(sourceConnection, cancellationToken);
        var copyVersions = await VersionHistory.ReadAppliedAsync(copyConnection, cancellationToken);
        if (!sourceVersions.SequenceEqual(copyVersions))
        {
            throw new PreflightFailed(
                $"the copy is not where the source is: the source {source.Database} has applied {Describe(sourceVersions)}, the copy {copy.Database} has applied " +
                $"{Describe(copyVersions)}; a rehearsal on it would forecast another run: make the copy from the source again (a new branch)");
        }

        return sourceVersions;
    }

    /// <summary>The cheap check: the same hosts, ports and database, as written (the lock check catches another name for the same server).</summary>
    private static bool SameByName(ConnectionTarget source, ConnectionTarget copy) =>
        string.Equals(source.Database, copy.Database, StringComparison.Ordinal) &&
        source.Endpoints.Select(e => (e.Host.ToLowerInvariant(), e.Port)).SequenceEqual(copy.Endpoints.Select(e => (e.Host.ToLowerInvariant(), e.Port)));

    public static string Describe(IReadOnlyList<long> versions) =>
        versions.Count == 0 ? "no migration" : string.Join(", ", versions.Select(v => v.ToString(CultureInfo.InvariantCulture)));
}
