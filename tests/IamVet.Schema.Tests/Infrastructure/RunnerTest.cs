using IamVet.Schema.Migrations.Infrastructure;

namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>
/// Base of the tests that run the built runner as a process: each test gets its own throwaway
/// database and its own working directory (so <c>./backups</c> lands there), and the runner finds
/// the database through <c>IAMVET_SCHEMA_CONNECTION</c> unless a test says otherwise.
/// </summary>
public abstract class RunnerTest
{
    protected TestDatabase Database { get; private set; } = null!;

    protected string WorkDirectory { get; private set; } = null!;

    protected string BackupDirectory => Path.Combine(WorkDirectory, "backups");

    /// <summary>A few users of each type (active, inactive, withdrawn) and hospital side rows.</summary>
    protected static object[] SeedRows { get; } =
    [
        new LegacyUser("vet1", "VETERINARIAN") { Nickname = "닥터1", LicenseImage = "https://cdn/l1.png", BirthDate = new DateTime(1990, 5, 17) },
        new LegacyUser("vet2", "VETERINARIAN") { IsActive = false, RealName = "이영희" },
        new LegacyUser("stu1", "VETERINARY_STUDENT") { UniversityEmail = "stu1@snu.ac.kr", Nickname = "새내기" },
        new LegacyUser("stu2", "VETERINARY_STUDENT") { UniversityEmail = "stu2@knu.ac.kr", DeletedAt = new DateTime(2025, 1, 2), WithdrawReason = "졸업" },
        new LegacyUser("hos1", "HOSPITAL") { HospitalName = "행복동물병원", BusinessNumber = "123-45-67890", HospitalAddress = "서울시 마포구", RealName = "박원장" },
        new LegacyUser("hos2", "HOSPITAL") { HospitalName = "튼튼동물병원", BusinessNumber = "234-56-78901", RealName = "최원장" },
        new LegacyAnimal("a1", "hos1", "DOG", new DateTime(2024, 4, 1)),
        new LegacyAnimal("a2", "hos1", "CAT", new DateTime(2024, 4, 2)),
        new LegacySpecialty("s1", "hos1", "내과", new DateTime(2024, 4, 1)),
        new LegacyImage("i1", "hos1", "https://cdn/i1.png", 0, new DateTime(2024, 4, 1), new DateTime(2024, 4, 1)),
        new LegacyImage("i2", "hos1", "https://cdn/i2.png", 0, new DateTime(2024, 4, 2), new DateTime(2024, 4, 2)),
        new LegacyLicense("l1", "hos2", "license.pdf", "https://cdn/license.pdf", "application/pdf", new DateTime(2024, 4, 3), 1234),
    ];

    /// <summary>The name of each test's database; null: <c>t_&lt;guid&gt;</c>. Must be unique on the server.</summary>
    protected virtual string? NewDatabaseName() => null;

    [SetUp]
    public async Task CreateDatabaseAndWorkDirectory()
    {
        Database = await TestDatabase.CreateAsync(NewDatabaseName());
        WorkDirectory = Directory.CreateTempSubdirectory("iamvet-runner-").FullName;
    }

    [TearDown]
    public async Task DropDatabaseAndWorkDirectory()
    {
        await Database.DisposeAsync();
        Directory.Delete(WorkDirectory, recursive: true);
    }

    protected Task<RunnerResult> RunAsync(params string[] arguments) => RunAsync(new Dictionary<string, string?>(), arguments);

    /// <summary>Runs the runner in <see cref="WorkDirectory"/> against <see cref="Database"/> (unless <paramref name="environment"/> overrides it).</summary>
    protected Task<RunnerResult> RunAsync(IReadOnlyDictionary<string, string?> environment, params string[] arguments) =>
        RunnerProcess.RunAsync(WorkDirectory, Merged(environment), arguments);

    /// <summary>Starts the runner like <see cref="RunAsync(IReadOnlyDictionary{string, string?}, string[])"/> and returns while it runs.</summary>
    protected RunningRunner Start(IReadOnlyDictionary<string, string?> environment, params string[] arguments) =>
        RunnerProcess.Start(WorkDirectory, Merged(environment), arguments);

    protected RunningRunner Start(params string[] arguments) => Start(new Dictionary<string, string?>(), arguments);

    private Dictionary<string, string?> Merged(IReadOnlyDictionary<string, string?> environment)
    {
        var merged = new Dictionary<string, string?>(StringComparer.Ordinal) { [ConnectionSettings.EnvironmentVariable] = Database.ConnectionString };
        foreach (var (key, value) in environment)
        {
            merged[key] = value;
        }

        return merged;
    }

    /// <summary>A production-like legacy database: the legacy schema made by plain SQL, no migration history.</summary>
    protected async Task CreateLegacyDatabaseWithoutHistoryAsync() =>
        await Database.ExecuteAsync(SqlScripts.Load("LegacyBaseline.up.sql"));

    /// <summary>A baselined legacy database holding <see cref="SeedRows"/>.</summary>
    protected async Task CreateLegacyDatabaseWithRowsAsync()
    {
        await Migrator.UpToAsync(Database, Versions.Baseline);
        await LegacyRows.InsertAsync(Database, SeedRows);
    }

    /// <summary>
    /// <see cref="CreateLegacyDatabaseWithRowsAsync"/>, then the runner's <c>migrate up</c> (no backup),
    /// which must succeed: the upgraded database a rollback test starts from.
    /// </summary>
    protected async Task UpgradeLegacyDatabaseWithRowsAsync()
    {
        await CreateLegacyDatabaseWithRowsAsync();
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup");
        Assert.That(up.ExitCode, Is.Zero, up.ToString());
    }

    protected Task<IReadOnlyList<long>> AppliedAsync() => Migrator.AppliedAsync(Database);

    /// <summary>Output with every run of whitespace made one space: redirected output is wrapped at 160 columns.</summary>
    protected static string Unwrapped(string output) => string.Join(' ', output.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    protected Task<bool> TableExistsAsync(string table) =>
        Database.ScalarAsync<bool>($"SELECT to_regclass('public.{table}') IS NOT NULL");

    /// <summary>
    /// What "nothing changed" compares: the applied versions, the schema's shape, and every legacy
    /// table's row count and content fingerprint (migration_log is left out: a refused attempt logs itself).
    /// </summary>
    protected async Task<List<string>> StateAsync()
    {
        var state = (await AppliedAsync()).Select(v => $"applied {v}").ToList();
        await using var connection = await Database.OpenAsync();
        state.AddRange((await SchemaSnapshot.TakeAsync(connection)).Lines);
        if (await TableExistsAsync("users"))
        {
            state.AddRange(await LegacyTablesAsync());
        }

        return state;
    }

    /// <summary>Every legacy table's row count and content fingerprint (independent of column order).</summary>
    protected async Task<List<string>> LegacyTablesAsync()
    {
        await using var connection = await Database.OpenAsync();
        return (await TableFingerprints.OfLegacyTablesAsync(connection)).Select(f => $"rows {f.Name}: {f.Rows} ({f.Hash})").ToList();
    }

    /// <summary>Dumps, partial dumps and manifests in the backup directory (the Markdown run reports beside them are not backups).</summary>
    protected string[] BackupFiles() =>
        Directory.Exists(BackupDirectory)
            ? Directory.GetFiles(BackupDirectory).Select(Path.GetFileName).OfType<string>()
                .Where(name => !name.EndsWith(".report.md", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray()
            : [];

    /// <summary>The Markdown run reports written next to the backups.</summary>
    protected string[] ReportFiles() =>
        Directory.Exists(BackupDirectory)
            ? Directory.GetFiles(BackupDirectory, "*.report.md").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray()
            : [];
}
