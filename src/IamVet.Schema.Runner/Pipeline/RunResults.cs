namespace IamVet.Schema.Runner.Pipeline;

/// <summary>
/// What a run's stages returned, in the order they ran: each stage's typed result and the rows of
/// the report. Only the engine (<see cref="MigrationPipeline"/>, <see cref="StageRunner"/>) records
/// here; a stage receives what it needs as arguments and returns its own result, so no stage
/// writes into another's.
/// </summary>
public sealed class RunResults : IAsyncDisposable
{
    private readonly List<StageResult> stages = [];

    /// <summary>The report's rows, one per stage that ran (or was skipped).</summary>
    public IReadOnlyList<StageResult> Stages => stages;

    /// <summary>The migration lock and the connection that holds it (Lock).</summary>
    public LockedSession? Session { get; private set; }

    /// <summary>The server, the applied versions and the plan (Pre-flight).</summary>
    public PreflightFacts? Preflight { get; private set; }

    public MigrationPlan? Plan => Preflight?.Plan;

    /// <summary>What the data audit found, with what the migrate stage checked alongside the migrations.</summary>
    public AuditReport? Audit { get; private set; }

    public BackupResult? Backup { get; private set; }

    /// <summary>What the migrations did and what their verification found.</summary>
    public MigrationOutcome? Migration { get; private set; }

    /// <summary>The verification (also when it failed and the run was rolled back).</summary>
    public VerifyReport? Verification { get; private set; }

    /// <summary>The migration_log row of this attempt, once written.</summary>
    public int? LogRowId { get; private set; }

    /// <summary>RUNNING rows of dead runs that this run marked ABORTED.</summary>
    public int AbortedEarlierRuns { get; private set; }

    public bool NothingToDo => Plan is { IsEmpty: true };

    internal void Add(StageResult stage) => stages.Add(stage);

    /// <summary>Replaces the row of <paramref name="stage"/>'s stage (the audit's, once its alongside checks are in).</summary>
    internal void Replace(StageResult stage)
    {
        var index = stages.FindIndex(s => s.Stage == stage.Stage);
        if (index >= 0)
        {
            stages[index] = stage with { Duration = stages[index].Duration };
        }
    }

    internal void Keep(LockedSession session) => Session = session;

    internal void Keep(PreflightFacts facts) => Preflight = facts;

    internal void Keep(AuditReport audit) => Audit = audit;

    internal void Keep(BackupResult? backup) => Backup = backup;

    internal void Keep(MigrationOutcome migration) => Migration = migration;

    internal void Keep(VerifyReport verification) => Verification = verification;

    internal void KeepLogRow(int? id) => LogRowId = id;

    internal void KeepAborted(int count) => AbortedEarlierRuns = count;

    public async ValueTask DisposeAsync()
    {
        if (Session is not null)
        {
            await Session.DisposeAsync();
        }
    }
}
