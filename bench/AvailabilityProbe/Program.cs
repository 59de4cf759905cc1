// Availability probe for bench/run.sh (docs/performance.md, "How it is measured"): how long the
// application could not read, and could not write, the `users` table while a migration ran.
//
//   availability-probe --connection "<Npgsql connection string>" --out FILE.json [--user-id ID]
//
// Two independent loops. Each STARTS an attempt every 20 ms on a FRESH connection (no pooling,
// connect timeout 1 s, lock_timeout 100 ms), without waiting for the attempts before it to finish
// (at most 16 in flight per loop; a tick with 16 still running is counted as skipped): one reads
// one users row (SELECT * … WHERE id = ID), the other updates one (SET "lastLoginAt" = now(), a
// column no migration moves). A blocked write never delays a read, and a slow connect never delays
// the next attempt: the probe's resolution is its period, not its own latency (an application has
// many clients; until commit 14e1cef one attempt waited for the one before it, so on two saturated
// cores a 150–250 ms connect looked like an outage). A loop's outage is its longest stretch
// without a success, from one success's end to the next success's end (a stretch still open at
// the stop ends at the stop), counted from the loop's first success on (before it the probe is
// starting up). Prints "ready" on stdout once a read and a write have both succeeded (start the
// work to measure after it), and each stretch of 100 ms or more on stderr. Runs until SIGTERM or
// SIGINT, then writes {"readOutageMs", "writeOutageMs", "reads", "readFailures", "readsSkipped",
// "readLatencyMedianMs", "readLatencyMaxMs", the same for writes, …} to FILE (a failure: refused,
// timed out, no row; latency: from an attempt's start to its success, connect included).
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Npgsql;

string? connection = null, outFile = null, userId = "usr_000000001"; // the seed's first user (seed always makes it)
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--connection": connection = args[i + 1]; break;
        case "--out": outFile = args[i + 1]; break;
        case "--user-id": userId = args[i + 1]; break;
        default: return Usage($"unknown option {args[i]}");
    }
}
if (connection is null || outFile is null || args.Length % 2 != 0)
{
    return Usage("--connection and --out are required");
}

var builder = new NpgsqlConnectionStringBuilder(connection)
{
    Pooling = false,
    Timeout = 1,        // connect timeout, seconds (Npgsql's smallest)
    CommandTimeout = 2, // a backstop; lock waits end at lock_timeout
    Options = "-c lock_timeout=100ms",
    ApplicationName = "availability-probe",
};

var clock = Stopwatch.StartNew();
using var stop = new CancellationTokenSource();
var stoppedAt = TimeSpan.Zero;
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    if (!stop.IsCancellationRequested)
    {
        stoppedAt = clock.Elapsed;
        stop.Cancel();
    }
}
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

var read = new ProbeLoop(builder.ConnectionString, "SELECT * FROM users WHERE id = $1", userId, isWrite: false);
var write = new ProbeLoop(builder.ConnectionString, "UPDATE users SET \"lastLoginAt\" = now() WHERE id = $1", userId, isWrite: true);
var loops = Task.WhenAll(read.RunAsync(clock, stop.Token), write.RunAsync(clock, stop.Token));
_ = Task.WhenAll(read.FirstSuccess.Task, write.FirstSuccess.Task).ContinueWith(_ => Console.WriteLine("ready"), TaskScheduler.Default);
await loops;

read.Close(stoppedAt, stopping: true);
write.Close(stoppedAt, stopping: true);
await File.WriteAllTextAsync(outFile, JsonSerializer.Serialize(new
{
    readOutageMs = Math.Round(read.LongestOutage.TotalMilliseconds),
    writeOutageMs = Math.Round(write.LongestOutage.TotalMilliseconds),
    reads = read.Attempts,
    readFailures = read.Failures,
    readsSkipped = read.Skipped,
    readLatencyMedianMs = read.LatencyMedianMs,
    readLatencyMaxMs = read.LatencyMaxMs,
    writes = write.Attempts,
    writeFailures = write.Failures,
    writesSkipped = write.Skipped,
    writeLatencyMedianMs = write.LatencyMedianMs,
    writeLatencyMaxMs = write.LatencyMaxMs,
    durationMs = Math.Round(stoppedAt.TotalMilliseconds),
    lastReadError = read.LastError,
    lastWriteError = write.LastError,
}));
return 0;

static int Usage(string why)
{
    Console.Error.WriteLine($"error: {why}\nusage: availability-probe --connection \"<Npgsql connection string>\" --out FILE.json [--user-id ID]");
    return 2;
}

/// <summary>
/// One probe loop: an attempt started every 20 ms on a fresh connection, each on its own (at most
/// <see cref="MaxInFlight"/> at once); the longest gap between the ends of two successes.
/// </summary>
internal sealed class ProbeLoop(string connectionString, string sql, string userId, bool isWrite)
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(20);
    private const int MaxInFlight = 16;
    private readonly object gate = new();
    private readonly List<double> latenciesMs = [];
    private TimeSpan? lastSuccess;
    private long failuresSince;
    private int inFlight;

    public long Attempts { get; private set; }
    public long Failures { get; private set; }
    public long Skipped { get; private set; }
    public TimeSpan LongestOutage { get; private set; }
    public string? LastError { get; private set; }
    public TaskCompletionSource FirstSuccess { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public double? LatencyMedianMs => Percentile(0.5);
    public double? LatencyMaxMs => Percentile(1.0);

    public async Task RunAsync(Stopwatch clock, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Period);
        var attempts = new List<Task>();
        do
        {
            lock (gate)
            {
                if (inFlight >= MaxInFlight)
                {
                    Skipped++;
                    continue;
                }

                inFlight++;
                Attempts++;
            }

            attempts.Add(AttemptAsync(clock, stop));
            attempts.RemoveAll(t => t.IsCompleted);
        }
        while (await NextTickAsync(timer, stop));
        await Task.WhenAll(attempts);
    }

    private async Task AttemptAsync(Stopwatch clock, CancellationToken stop)
    {
        var started = clock.Elapsed;
        bool succeeded;
        string? error = null;
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(stop);
            await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = userId } } };
            if (isWrite)
            {
                succeeded = await command.ExecuteNonQueryAsync(stop) == 1;
            }
            else
            {
                await using var reader = await command.ExecuteReaderAsync(stop);
                succeeded = await reader.ReadAsync(stop);
            }

            if (!succeeded)
            {
                error = $"no users row with id {userId}";
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            lock (gate)
            {
                inFlight--;
                Attempts--; // the attempt the stop cut short counts neither way
            }

            return;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            succeeded = false;
            error = e is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : e.Message;
        }

        var ended = clock.Elapsed;
        lock (gate)
        {
            inFlight--;
            if (succeeded)
            {
                latenciesMs.Add((ended - started).TotalMilliseconds);
                Close(ended);
                FirstSuccess.TrySetResult();
            }
            else
            {
                Failures++;
                failuresSince++;
                LastError = error;
            }
        }
    }

    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken stop)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stop);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Ends the stretch without a success at <paramref name="at"/> (a success's end, or the stop).
    /// Stretches count from the first success on: before it the probe is starting (JIT, first
    /// connect), and the caller waits for "ready". A loop that never succeeded was out throughout.
    /// Successes end in any order: one that ends before the last one seen closes no stretch.
    /// </summary>
    public void Close(TimeSpan at, bool stopping = false)
    {
        lock (gate)
        {
            if (lastSuccess is { } seen && at <= seen)
            {
                return;
            }

            if (lastSuccess is not null || stopping)
            {
                var from = lastSuccess ?? TimeSpan.Zero;
                if (at - from >= TimeSpan.FromMilliseconds(100))
                {
                    Console.Error.WriteLine($"{(isWrite ? "write" : "read")}: no success from {from.TotalMilliseconds:0} to {at.TotalMilliseconds:0} ms ({failuresSince} failed)");
                }

                LongestOutage = at - from > LongestOutage ? at - from : LongestOutage;
            }

            lastSuccess = at;
            failuresSince = 0;
        }
    }

    /// <summary>The <paramref name="q"/> quantile of the successes' latencies in ms (null: no success).</summary>
    private double? Percentile(double q)
    {
        lock (gate)
        {
            if (latenciesMs.Count == 0)
            {
                return null;
            }

            var sorted = latenciesMs.Order().ToList();
            return Math.Round(sorted[(int)Math.Ceiling(q * (sorted.Count - 1))]);
        }
    }
}
