namespace IamVet.Schema.Runner.Pipeline;

public enum StageStatus
{
    Pass,
    Warn,
    Fail,
    Skipped,
}

/// <summary>What one stage did: shown in the report, stored in migration_log details, and in --json.</summary>
public sealed record StageResult(string Stage, StageStatus Status, TimeSpan Duration, string Summary, IReadOnlyList<string> Notes)
{
    public static StageResult Skipped(string stage, string why) => new(stage, StageStatus.Skipped, TimeSpan.Zero, why, []);
}
