using System.CommandLine;
using System.CommandLine.Parsing;
using System.Numerics;

namespace IamVet.Schema.Runner.Cli;

/// <summary>Options shared by the commands that touch a database, and their translation into <see cref="RunOptions"/>.</summary>
public static partial class CommonOptions
{
    public static readonly Option<string?> Connection = new("--connection", "-c")
    {
        Description = "PostgreSQL connection string, e.g. \"Host=…;Database=…;Username=…\" or \"postgresql://user@host/db?sslmode=verify-full\" (else env IAMVET_SCHEMA_CONNECTION or ConnectionStrings__IamVet, else ConnectionStrings:IamVet in appsettings.json; see Configuration in docs/cli.md)",
    };

    public static readonly Option<string> BackupDirectory = new("--backup-dir")
    {
        Description = "Directory for the pg_dump backup and its manifest",
        DefaultValueFactory = _ => "backups",
    };

    public static readonly Option<bool> NoBackup = new("--no-backup")
    {
        Description = "Run without a backup (recorded as a warning; you will have no restore point)",
    };

    public static readonly Option<bool> Yes = new("--yes", "-y")
    {
        Description = "Do not ask for confirmation (required when there is no terminal to ask on)",
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print one JSON summary on stdout and nothing else",
    };

    /// <summary>
    /// The duration options state their default in their description, as the operator types it
    /// (<c>10s</c>): System.CommandLine would print a TimeSpan's default as <c>00:00:10</c>. Not given,
    /// they resolve through the configuration to <see cref="DefaultLockTimeout"/> / zero (<see cref="ResolveSettings"/>).
    /// </summary>
    public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(10);

    public static readonly Option<TimeSpan> LockTimeout = new("--lock-timeout")
    {
        Description = "How long to wait for the migration lock, and PostgreSQL's lock_timeout for every table lock the run waits for (e.g. 10s, 2m, 500ms) " +
                      $"[default: {SettingValues.FormatDuration(DefaultLockTimeout)}]",
        CustomParser = ParseDuration,
    };

    public static readonly Option<TimeSpan> StatementTimeout = new("--statement-timeout")
    {
        Description = "PostgreSQL statement_timeout for each migration statement (0 = none) [default: 0]",
        CustomParser = ParseDuration,
    };

    public static readonly Option<bool> RequireIdle = new("--require-idle")
    {
        Description = "Refuse to run while other sessions are connected to the database (default: warn)",
    };

    public static readonly Option<long?> MinFreeSpace = new("--min-free-space")
    {
        Description = "Free space the backup directory must have: 10GB, 500MiB or plain bytes (default: estimated dump size with a 20% margin)",
        HelpName = "size",
        CustomParser = ParseSize,
    };

    /// <summary>For a rollback (migrate down, check --down): let the new tables win over an old application's writes to the legacy side after the up.</summary>
    public static readonly Option<bool> OverwriteLegacyWrites = new("--overwrite-legacy-writes")
    {
        Description = "Rollback only: overwrite what an old application wrote after the up to moved columns of users or to the legacy side tables " +
                      "with the new tables' values (the new tables win); without it such writes are named and the rollback is refused (exit 3)",
    };

    public static readonly Option<bool> CreateLegacySchema = new("--create-legacy-schema")
    {
        Description = "On an empty database (no users table, no migration history), create the legacy schema first; without it an empty database is refused (exit 3)",
    };

    /// <summary>The options of <c>migrate up/down</c>.</summary>
    public static readonly Option[] RunOptions = [Connection, BackupDirectory, NoBackup, Yes, Json, LockTimeout, StatementTimeout, RequireIdle, MinFreeSpace];

    /// <summary>The options of <c>check</c>: read-only, it asks nothing, takes no backup and runs no migration statement.</summary>
    public static readonly Option[] CheckOptions = [Connection, BackupDirectory, Json, LockTimeout, RequireIdle, MinFreeSpace];

    /// <summary>A migration version option (<c>--to</c>): its errors speak of versions, not of .NET types.</summary>
    public static Option<long?> VersionOption(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
            if (text.Length == 12 && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                return version;
            }

            result.AddError($"{name} '{text}' is not a migration version: give a 12-digit migration version (yyyyMMddHHmm), see `status`");
            return null;
        },
    };

    /// <summary><c>--to</c> of a down (<c>migrate down</c>, <c>preview down</c>): what it keeps and what it reverts.</summary>
    public static Option<long?> DownToOption() => VersionOption("--to",
        "Roll back to this migration version (12 digits, see `status`): every applied migration above it is reverted, it stays applied " +
        "(default: back to the legacy baseline, which is never reverted)");

    /// <summary><c>--steps</c> of a down (<c>migrate down</c>, <c>preview down</c>).</summary>
    public static Option<int?> DownStepsOption() => OptionalCount("--steps",
        "Roll back this many applied migrations, the newest first (1 up to as many as are applied above the legacy baseline); not with --to",
        "a number of migrations, 1 or more");

    /// <summary>An optional count (<c>--steps</c>): its errors say what is expected, not a .NET type.</summary>
    public static Option<int?> OptionalCount(string name, string description, string what) => new(name)
    {
        Description = description,
        CustomParser = result => ParseCount<int>(result, name, what),
    };

    /// <summary>A count with a default (<c>--users</c>).</summary>
    public static Option<long> Count(string name, string description, string what, long defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseCount<long>(result, name, what) ?? 0,
    };

    /// <summary>
    /// What can be refused of a migrating request without a database (exit 2, nothing written):
    /// see <see cref="MigrationPlanner.Validate"/>.
    /// </summary>
    public static void Validate(Pipeline.RunOptions options)
    {
        try
        {
            MigrationPlanner.Validate(options.Direction, options.TargetVersion, options.Steps, options.Flags);
        }
        catch (MigrationPlanningException ex)
        {
            throw new ConfigurationException(ex.Message);
        }
    }

    private static T? ParseCount<T>(ArgumentResult result, string name, string what)
        where T : struct, IBinaryInteger<T>
    {
        var text = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
        if (T.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        result.AddError($"{name} '{text}' is not a number: give {what}");
        return null;
    }

    /// <summary>A command named <paramref name="name"/> that offers exactly <paramref name="options"/>, in that order.</summary>
    public static Command Define(string name, string description, params IEnumerable<Option> options)
    {
        var command = new Command(name, description);
        foreach (var option in options)
        {
            command.Options.Add(option);
        }

        return command;
    }

    /// <summary>
    /// The run's options: each setting from its flag when given, else from the configuration
    /// (appsettings.json next to the tool, then in the working directory, then the environment),
    /// else the flag's default. See <see cref="RunnerConfiguration"/>.
    /// </summary>
    public static Pipeline.RunOptions ToRunOptions(ParseResult parse, string commandName, MigrationDirection direction = MigrationDirection.Up)
    {
        var settings = ResolveSettings(parse);
        return new()
        {
            CommandName = commandName,
            Target = settings.Target,
            Direction = direction,
            BackupDirectory = settings.BackupDirectory.Value,
            NoBackup = parse.GetValue(NoBackup),
            Yes = parse.GetValue(Yes),
            Json = parse.GetValue(Json),
            LockTimeout = settings.LockTimeout.Value,
            StatementTimeout = settings.StatementTimeout.Value,
            RequireIdle = settings.RequireIdle.Value,
            MinFreeBytes = settings.MinFreeSpace.Value,
            MinFreeBytesSource = settings.MinFreeSpace.Source,
        };
    }

    /// <summary>Every setting of <see cref="Setting.All"/> resolved for this command line, with where it came from.</summary>
    public static ResolvedSettings ResolveSettings(ParseResult parse)
    {
        var configuration = RunnerConfiguration.Load();
        return new ResolvedSettings(
            ConnectionSettings.Resolve(parse.GetValue(Connection), configuration),
            configuration.ResolveText(Setting.BackupDirectory, parse.GetValue(BackupDirectory), Given(parse, BackupDirectory), "backups"),
            configuration.ResolveDuration(Setting.LockTimeout, parse.GetValue(LockTimeout), Given(parse, LockTimeout), DefaultLockTimeout),
            configuration.ResolveDuration(Setting.StatementTimeout, parse.GetValue(StatementTimeout), Given(parse, StatementTimeout), TimeSpan.Zero),
            configuration.ResolveSize(Setting.MinFreeSpace, parse.GetValue(MinFreeSpace), Given(parse, MinFreeSpace)),
            configuration.ResolveBoolean(Setting.RequireIdle, parse.GetValue(RequireIdle), Given(parse, RequireIdle)),
            configuration.Files);
    }

    /// <summary>Whether the operator typed <paramref name="option"/> (its default does not count).</summary>
    private static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    /// <summary>
    /// Refuses (exit 2) a change without --yes when there is no terminal to ask on, rather than hang
    /// on a prompt nobody can answer. Called before anything connects.
    /// </summary>
    public static void RequireYesOrTerminal(Pipeline.RunOptions options, string what)
    {
        if (!options.Yes && Console.IsInputRedirected)
        {
            throw new ConfigurationException($"refusing to {what} without --yes: there is no terminal to confirm on");
        }
    }

    /// <summary>
    /// Shows what the command will do (<paramref name="details"/>, then the database and host), and,
    /// without --yes, asks. --yes skips the question, never the display: the lines go to stdout
    /// (stderr with --json, whose stdout is one JSON document).
    /// </summary>
    public static bool Confirm(Pipeline.RunOptions options, string what, IReadOnlyList<string>? details = null)
    {
        RequireYesOrTerminal(options, what);
        var output = options.Json ? Console.Error : Console.Out;
        output.WriteLine($"{what} on database \"{options.Target.Database}\" at {options.Target.Server}");
        foreach (var line in details ?? [])
        {
            output.WriteLine(line);
        }

        output.Flush();
        if (options.Yes)
        {
            return true;
        }

        Console.Error.Write($"{what} on database \"{options.Target.Database}\" at {options.Target.Server}, as listed above? [y/N] ");
        var answer = Console.ReadLine();
        return answer is not null && (answer.Trim().Equals("y", StringComparison.OrdinalIgnoreCase) || answer.Trim().Equals("yes", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A question answered with anything but y/yes (or nothing): exit 2, nothing done (docs/cli.md, exit codes).</summary>
    public static int NotConfirmed()
    {
        Console.Error.WriteLine("not confirmed: nothing was done (exit 2)");
        return ExitCodes.Usage;
    }

    private static TimeSpan ParseDuration(ArgumentResult result)
    {
        var text = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
        if (!SettingValues.TryParseDuration(text, out var duration))
        {
            result.AddError($"'{text}' is not a duration: {SettingValues.DurationHint}");
        }

        return duration;
    }

    private static long? ParseSize(ArgumentResult result)
    {
        var text = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
        if (!SettingValues.TryParseSize(text, out var bytes))
        {
            var name = result.Parent is OptionResult option ? option.Option.Name : "this option";
            result.AddError($"'{text}' is not a size for {name}: {SettingValues.SizeHint}");
            return null;
        }

        return bytes;
    }
}
