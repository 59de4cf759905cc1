using System.Diagnostics;

namespace IamVet.Schema.Runner.Pipeline;

/// <summary>
/// What one run starts from and never changes: the operator's options, the database layer built
/// from them once (<see cref="MigrationDatabase"/>), and when it started. What the stages return
/// is collected, typed, in <see cref="RunResults"/>.
/// </summary>
public sealed class RunContext(RunOptions options) : IAsyncDisposable
{
    public RunOptions Options { get; } = options;

    /// <summary>The database layer of this run: one data source per connection role, with the run's timeouts.</summary>
    public MigrationDatabase Database { get; } = new(options.Target, options.LockTimeout, options.StatementTimeout);

    /// <summary>The database's name, for messages and reports.</summary>
    public string DatabaseName => Options.Target.Database;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    public ValueTask DisposeAsync() => Database.DisposeAsync();
}
