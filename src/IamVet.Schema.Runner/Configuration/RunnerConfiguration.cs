using System.Collections;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace IamVet.Schema.Runner.Configuration;

/// <summary>
/// One setting the operator can give as a flag, in appsettings.json (<see cref="Key"/>) or in the
/// environment (<see cref="EnvironmentVariable"/>, or <see cref="Key"/> with <c>__</c> for <c>:</c>
/// as every .NET app reads it).
/// </summary>
public sealed record Setting(string Flag, string Key, string EnvironmentVariable)
{
    /// <summary>The key as .NET's environment variable configuration spells it, e.g. <c>ConnectionStrings__IamVet</c>.</summary>
    public string StandardEnvironmentVariable => Key.Replace(":", "__", StringComparison.Ordinal);

    public static readonly Setting Connection = new("--connection", "ConnectionStrings:IamVet", "IAMVET_SCHEMA_CONNECTION");
    public static readonly Setting BackupDirectory = new("--backup-dir", "IamVetSchema:BackupDir", "IAMVET_SCHEMA_BACKUP_DIR");
    public static readonly Setting LockTimeout = new("--lock-timeout", "IamVetSchema:LockTimeout", "IAMVET_SCHEMA_LOCK_TIMEOUT");
    public static readonly Setting StatementTimeout = new("--statement-timeout", "IamVetSchema:StatementTimeout", "IAMVET_SCHEMA_STATEMENT_TIMEOUT");
    public static readonly Setting MinFreeSpace = new("--min-free-space", "IamVetSchema:MinFreeSpace", "IAMVET_SCHEMA_MIN_FREE_SPACE");
    public static readonly Setting RequireIdle = new("--require-idle", "IamVetSchema:RequireIdle", "IAMVET_SCHEMA_REQUIRE_IDLE");

    /// <summary>Every setting, in the order <c>status</c> lists them.</summary>
    public static IReadOnlyList<Setting> All { get; } = [Connection, BackupDirectory, LockTimeout, StatementTimeout, MinFreeSpace, RequireIdle];
}

/// <summary>A setting's text and where it came from (a file path and key, an environment variable, a flag).</summary>
public sealed record SettingValue(string Text, string Source);

/// <summary>A setting resolved to its value, with where it came from ("default" when nowhere).</summary>
public sealed record Resolved<T>(T Value, string Source);

/// <summary>
/// The runner's configuration the way .NET apps layer theirs, later wins: <c>appsettings.json</c>
/// (then <c>appsettings.{DOTNET_ENVIRONMENT}.json</c>) next to the tool, the same in the current
/// directory, the environment (<c>ConnectionStrings__IamVet</c>, <c>IamVetSchema__LockTimeout</c>, …,
/// then the runner's own <c>IAMVET_SCHEMA_*</c>), then the flags, which the CLI applies on top
/// (<see cref="Resolve{T}"/>). A malformed file is a <see cref="ConfigurationException"/> naming the
/// file and line. Loaded once per command.
/// </summary>
public sealed class RunnerConfiguration
{
    /// <summary>Layers, highest precedence first.</summary>
    private readonly List<Layer> layers;

    private RunnerConfiguration(List<Layer> layers) => this.layers = layers;

    /// <summary>The files that were read, lowest precedence first.</summary>
    public IReadOnlyList<string> Files { get; private init; } = [];

    /// <summary>The process's configuration: files next to the tool and in the working directory, its environment.</summary>
    public static RunnerConfiguration Load() =>
        Load(DefaultToolDirectories(), Directory.GetCurrentDirectory(), Environment.GetEnvironmentVariables());

    internal static RunnerConfiguration Load(IEnumerable<string> toolDirectories, string currentDirectory, IDictionary environment)
    {
        var variables = environment.Cast<DictionaryEntry>()
            .Where(e => e.Key is string && e.Value is string)
            .ToDictionary(e => (string)e.Key, e => (string)e.Value!, StringComparer.Ordinal);
        var environmentName = variables.GetValueOrDefault("DOTNET_ENVIRONMENT") is { Length: > 0 } name ? name : "Production";

        var directories = new List<string>();
        foreach (var directory in toolDirectories.Append(currentDirectory).Select(Path.GetFullPath))
        {
            if (!directories.Any(d => PathsEqual(d, directory)))
            {
                directories.Add(directory);
            }
        }

        var lowestFirst = new List<Layer>();
        var files = new List<string>();
        foreach (var directory in directories)
        {
            foreach (var file in new[] { "appsettings.json", $"appsettings.{environmentName}.json" })
            {
                var path = Path.Combine(directory, file);
                if (File.Exists(path))
                {
                    lowestFirst.Add(FileLayer(path));
                    files.Add(path);
                }
            }
        }

        lowestFirst.Add(new Layer(key =>
        {
            // As .NET's environment variable provider reads them: ':' spelled '__', names compared ignoring case.
            var name = key.Replace(":", "__", StringComparison.Ordinal);
            var found = variables.FirstOrDefault(v => string.Equals(v.Key, name, StringComparison.OrdinalIgnoreCase));
            return found.Key is null || string.IsNullOrWhiteSpace(found.Value) ? null : new SettingValue(found.Value, $"environment {found.Key}");
        }));
        lowestFirst.Add(new Layer(key =>
        {
            var setting = Setting.All.FirstOrDefault(s => s.Key == key);
            return setting is not null && variables.TryGetValue(setting.EnvironmentVariable, out var value) && !string.IsNullOrWhiteSpace(value)
                ? new SettingValue(value, $"environment {setting.EnvironmentVariable}")
                : null;
        }));

        lowestFirst.Reverse();
        return new RunnerConfiguration(lowestFirst) { Files = files };
    }

    /// <summary>The setting's text from the highest layer that has one; null when none does (the flag's default applies).</summary>
    public SettingValue? Find(Setting setting)
    {
        foreach (var layer in layers)
        {
            if (layer.Get(setting.Key) is { } value)
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>
    /// The flag when it was given, else the configured text parsed by <paramref name="parse"/> (null:
    /// not valid, and <paramref name="expected"/> says what is), else <paramref name="defaultValue"/>.
    /// </summary>
    public Resolved<T> Resolve<T>(Setting setting, bool flagGiven, T flagValue, T defaultValue, Func<string, (bool Ok, T Value)> parse, string expected)
    {
        if (flagGiven)
        {
            return new Resolved<T>(flagValue, setting.Flag);
        }

        if (Find(setting) is not { } configured)
        {
            return new Resolved<T>(defaultValue, "default");
        }

        var (ok, value) = parse(configured.Text);
        return ok
            ? new Resolved<T>(value, configured.Source)
            : throw new ConfigurationException($"{configured.Source}: '{configured.Text}' is not valid for {setting.Flag}: {expected}");
    }

    public Resolved<string> ResolveText(Setting setting, string? flag, bool flagGiven, string defaultValue) =>
        Resolve(setting, flagGiven && flag is not null, flag ?? defaultValue, defaultValue, text => (true, text.Trim()), "");

    public Resolved<TimeSpan> ResolveDuration(Setting setting, TimeSpan flag, bool flagGiven, TimeSpan defaultValue) =>
        Resolve(setting, flagGiven, flag, defaultValue, text => (SettingValues.TryParseDuration(text, out var d), d), SettingValues.DurationHint);

    public Resolved<long?> ResolveSize(Setting setting, long? flag, bool flagGiven) =>
        Resolve(setting, flagGiven, flag, null, text => (SettingValues.TryParseSize(text, out var b), (long?)b), SettingValues.SizeHint);

    public Resolved<bool> ResolveBoolean(Setting setting, bool flag, bool flagGiven) =>
        Resolve(setting, flagGiven, flag, false, text => (SettingValues.TryParseBoolean(text, out var b), b), "use true or false");

    /// <summary>
    /// The directories "next to the tool": the runner's own files (what <c>dotnet publish</c> or a
    /// build leaves), and the folder of the command that started it when that is not the <c>dotnet</c>
    /// host — a .NET tool's shim in <c>--tool-path</c> or <c>~/.dotnet/tools</c>.
    /// </summary>
    private static List<string> DefaultToolDirectories()
    {
        var directories = new List<string> { AppContext.BaseDirectory };
        var process = Environment.ProcessPath;
        if (process is not null && !Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            && Path.GetDirectoryName(process) is { } shim)
        {
            directories.Insert(0, shim);
        }

        return directories;
    }

    private static Layer FileLayer(string path)
    {
        IConfigurationRoot configuration;
        try
        {
            configuration = new ConfigurationBuilder().AddJsonFile(path, optional: false, reloadOnChange: false).Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or JsonException or IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"malformed configuration file {path}: {Describe(ex)}");
        }

        return new Layer(key => configuration[key] is { } value && !string.IsNullOrWhiteSpace(value) ? new SettingValue(value, $"{path} ({key})") : null);
    }

    /// <summary>"line N: what is wrong" from the JSON reader's exception (its line numbers start at 0), else the innermost message.</summary>
    private static string Describe(Exception ex)
    {
        for (var inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is JsonException { LineNumber: { } line } json)
            {
                // The reader's message ends with its own 0-based "LineNumber: … | BytePositionInLine: …" (and maybe "Path: …"): cut.
                var what = json.Message;
                foreach (var tail in new[] { " Path:", " LineNumber:" })
                {
                    var cut = what.IndexOf(tail, StringComparison.Ordinal);
                    what = cut > 0 ? what[..cut] : what;
                }

                return $"line {line + 1}, column {json.BytePositionInLine + 1}: {what.Trim().TrimEnd('.')}";
            }
        }

        var innermost = ex;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        return innermost.Message;
    }

    private static bool PathsEqual(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(a), Path.TrimEndingDirectorySeparator(b), StringComparison.Ordinal);

    private sealed record Layer(Func<string, SettingValue?> Get);
}

/// <summary>The settings of one command line, each with where it came from; what <c>status</c> prints.</summary>
public sealed record ResolvedSettings(
    ConnectionTarget Target,
    Resolved<string> BackupDirectory,
    Resolved<TimeSpan> LockTimeout,
    Resolved<TimeSpan> StatementTimeout,
    Resolved<long?> MinFreeSpace,
    Resolved<bool> RequireIdle,
    IReadOnlyList<string> Files)
{
    /// <summary>One row per setting: its flag, its value as shown to the operator (never a password), its source.</summary>
    public IReadOnlyList<(string Flag, string Value, string Source)> Rows() =>
    [
        (Setting.Connection.Flag, Target.Display, Target.Source),
        (Setting.BackupDirectory.Flag, BackupDirectory.Value, BackupDirectory.Source),
        (Setting.LockTimeout.Flag, SettingValues.FormatDuration(LockTimeout.Value), LockTimeout.Source),
        (Setting.StatementTimeout.Flag, StatementTimeout.Value == TimeSpan.Zero ? "0 (none)" : SettingValues.FormatDuration(StatementTimeout.Value), StatementTimeout.Source),
        (Setting.MinFreeSpace.Flag, MinFreeSpace.Value is { } bytes ? $"{bytes.ToString(CultureInfo.InvariantCulture)} bytes" : "estimated dump size + 20%", MinFreeSpace.Source),
        (Setting.RequireIdle.Flag, RequireIdle.Value ? "true" : "false", RequireIdle.Source),
    ];
}
