using System.Diagnostics;
using Npgsql;

namespace IamVet.Schema.Runner.Seeding;

/// <summary>What a seed wrote.</summary>
public sealed record SeedResult(long Users, IReadOnlyDictionary<string, long> RowCounts, TimeSpan Duration);

/// <summary>
/// Fills an empty legacy-shaped database with realistic data, set-based in chunks (one INSERT …
/// SELECT generate_series per table and chunk), so a million users take about a minute. An empty
/// database first gets the legacy baseline through the real migration.
/// </summary>
public sealed class LegacySeeder(ILoggerFactory loggerFactory)
{
    public const int ChunkSize = 50_000;

    /// <summary>
    /// Seeds <paramref name="users"/> users. An empty database (no users table) gets the legacy
    /// baseline first only with <paramref name="createLegacySchema"/> (<c>--create-legacy-schema</c>); otherwise it is refused (exit 3).
    /// </summary>
    public async Task<SeedResult> SeedAsync(ConnectionTarget target, long users, bool dirty, bool createLegacySchema, Action<long, long>? progress, CancellationToken cancellationToken)
    {
        if (users < 1)
        {
            throw new ConfigurationException($"--users {users}: seed creates at least 1 user");
        }

        var clock = Stopwatch.StartNew();
        await using var database = new MigrationDatabase(target);
        await using var connection = await database.OpenAsync(Roles.Seed, cancellationToken);

        if (!await Sql.TableExistsAsync(connection, "users", cancellationToken))
        {
            var applied = await VersionHistory.ReadAppliedAsync(connection, cancellationToken);
            if (applied.Count == 0 && !createLegacySchema)
            {
                throw new PreflightFailed(PreflightStage.EmptyDatabaseRefusal(target.Database));
            }

            new MigrationExecutor(loggerFactory).Apply(database.FluentMigratorConnection(Roles.Seed), MigrationPlanner.PlanUp(applied, Versions.Baseline));
        }

        if (await Sql.ScalarAsync<bool>(connection, "SELECT EXISTS (SELECT FROM users)", cancellationToken))
        {
            throw new ConfigurationException("seed fills an empty legacy database, and users already has rows here");
        }

        if (await Sql.TableExistsAsync(connection, "veterinarians", cancellationToken))
        {
            throw new ConfigurationException("seed writes the legacy shape: migrate down to the baseline first");
        }

        for (long from = 1; from <= users; from += ChunkSize)
        {
            var to = Math.Min(users, from + ChunkSize - 1);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await ExecuteAsync(connection, transaction, "SET LOCAL synchronous_commit = off", from, to, cancellationToken);
            await ExecuteAsync(connection, transaction, LegacySeedSql.Users, from, to, cancellationToken);
            await ExecuteAsync(connection, transaction, LegacySeedSql.SideTables, from, to, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            progress?.Invoke(to, users);
        }

        if (dirty)
        {
            await Sql.ExecuteAsync(connection, LegacySeedSql.Dirty, cancellationToken);
        }

        await Sql.ExecuteAsync(connection, "ANALYZE", cancellationToken);

        var counts = await BackupWriter.CountRowsAsync(connection, null, cancellationToken);
        return new SeedResult(users, counts, clock.Elapsed);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, long from, long to, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        if (sql.Contains("@from", StringComparison.Ordinal))
        {
            command.Parameters.AddWithValue("from", from);
            command.Parameters.AddWithValue("to", to);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
