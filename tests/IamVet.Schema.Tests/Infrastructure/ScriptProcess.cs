namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>Runs one of the repository's shell scripts (<c>bash scripts/…</c>) from the repository root, as a person or CI would.</summary>
public static class ScriptProcess
{
    /// <summary>The repository root: the nearest folder above the test assembly that holds IamVet.Schema.sln.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static async Task<RunnerResult> RunAsync(string script, IReadOnlyDictionary<string, string?> environment, TimeSpan timeout, params string[] arguments)
    {
        using var process = RunnerProcess.StartCommand("bash", [script, .. arguments], RepositoryRoot, environment, $"bash {script} {string.Join(' ', arguments)}");
        return await process.WaitAsync(timeout);
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "IamVet.Schema.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no IamVet.Schema.sln above {AppContext.BaseDirectory}: the script tests run from a repository checkout");
    }
}
