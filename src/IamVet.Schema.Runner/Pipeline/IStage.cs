namespace IamVet.Schema.Runner.Pipeline;

/// <summary>
/// One step of the pipeline. A stage returns what it did (pass, warn, skipped) or throws a
/// <see cref="PipelineStopped"/> outcome; the pipeline times it and records the result.
/// </summary>
public interface IStage
{
    string Name { get; }

    Task<StageResult> RunAsync(RunContext context, CancellationToken cancellationToken);
}
