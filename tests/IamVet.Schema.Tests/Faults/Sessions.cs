namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// The database's sessions as a test watching a running runner sees them (pg_stat_activity,
/// pg_locks): wait for a runner connection to reach a given point, end it, check what is left.
/// </summary>
internal static class Sessions
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Polls until a session of <paramref name="database"/> matches <paramref name="condition"/> (SQL over
    /// <c>pg_stat_activity a</c>) and returns its pid; fails the test after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<int> WaitForAsync(TestDatabase database, string condition, TimeSpan timeout, string what, RunningRunner? runner = null)
    {
        var sql = $"SELECT a.pid FROM pg_stat_activity a WHERE a.datname = current_database() AND ({condition}) ORDER BY a.pid LIMIT 1";
        var clock = Stopwatch.StartNew();
        await using var connection = await database.OpenAsync();
        while (clock.Elapsed < timeout)
        {
            await using (var command = new NpgsqlCommand(sql, connection))
            {
                if (await command.ExecuteScalarAsync() is int pid)
                {
                    return pid;
                }
            }

            if (runner is { HasExited: true })
            {
                Assert.Fail($"the runner ended before {what}:\n{await runner.WaitAsync(TimeSpan.FromSeconds(10))}");
            }

            await Task.Delay(PollInterval);
        }

        Assert.Fail($"no session showed {what} within {timeout}");
        return 0;
    }

    /// <summary>Whether the backend <paramref name="pid"/> is gone within <paramref name="timeout"/>.</summary>
    public static async Task<bool> GoneWithinAsync(TestDatabase database, int pid, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        await using var connection = await database.OpenAsync();
        while (true)
        {
            await using (var command = new NpgsqlCommand("SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = @pid)", connection))
            {
                command.Parameters.AddWithValue("pid", pid);
                if (!(bool)(await command.ExecuteScalarAsync())!)
                {
                    return true;
                }
            }

            if (clock.Elapsed >= timeout)
            {
                return false;
            }

            await Task.Delay(PollInterval);
        }
    }

    public static async Task TerminateAsync(TestDatabase database, int pid)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", connection);
        command.Parameters.AddWithValue("pid", pid);
        await command.ExecuteScalarAsync();
    }

    /// <summary>Advisory locks anyone holds or waits for on <paramref name="database"/> (the migration lock is one).</summary>
    public static Task<long> AdvisoryLocksAsync(TestDatabase database) =>
        database.ScalarAsync<long>("""
            SELECT count(*) FROM pg_locks
            WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """);

    /// <summary>
    /// A connection of the test's own holding the advisory lock <paramref name="gate"/>: a run whose
    /// migration meets <see cref="Sabotage.GateAfterEachInsert"/> waits there until <see cref="OpenGateAsync"/>.
    /// </summary>
    public static async Task<NpgsqlConnection> HoldGateAsync(TestDatabase database, long gate)
    {
        var holder = await OpenAsAsync(database, "the gate");
        await using var hold = new NpgsqlCommand("SELECT pg_advisory_lock(@gate)", holder);
        hold.Parameters.AddWithValue("gate", gate);
        await hold.ExecuteNonQueryAsync();
        return holder;
    }

    /// <summary>Releases the gate <paramref name="holder"/> holds (<see cref="HoldGateAsync"/>): the run goes on.</summary>
    public static async Task OpenGateAsync(NpgsqlConnection holder, long gate)
    {
        await using var open = new NpgsqlCommand("SELECT pg_advisory_unlock(@gate)", holder);
        open.Parameters.AddWithValue("gate", gate);
        await open.ExecuteNonQueryAsync();
    }

    /// <summary>A connection of the test's own, named so the runner's messages can name it.</summary>
    public static async Task<NpgsqlConnection> OpenAsAsync(TestDatabase database, string applicationName)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database.ConnectionString)
        {
            ApplicationName = applicationName, Pooling = false,
        }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }
}
