using System.Text.RegularExpressions;
using IamVet.Schema.Migrations.Infrastructure;

namespace IamVet.Schema.Tests.Migrations;

/// <summary>
/// docs/adr/0009: the rollback renames each new table to <c>iamvet_rolled_back_&lt;table&gt;</c>
/// (exclusive.down.sql) and its Finish step drops them (rolled_back_tables.drop.sql), while the
/// runner finds an unfinished rollback by the names the migration composes in C#
/// (<see cref="SplitUsersIntoProfileTables.RolledBackPrefix"/> + <see cref="SplitUsersIntoProfileTables.Tables"/>).
/// The three lists are written in three places; this keeps them one list (no database needed).
/// </summary>
[TestFixture]
public sealed partial class RolledBackTableNamesTests
{
    private static readonly string[] Composed =
        SplitUsersIntoProfileTables.Tables.Select(table => SplitUsersIntoProfileTables.RolledBackPrefix + table).Order(StringComparer.Ordinal).ToArray();

    [Test]
    public void The_rollback_renames_every_new_table_to_the_name_the_runner_looks_for()
    {
        var sql = SqlScripts.Load("SplitUsersIntoProfileTables.exclusive.down.sql");
        var renamed = Rename().Matches(sql).Select(m => (From: m.Groups["from"].Value, To: m.Groups["to"].Value)).ToList();

        Assert.That(renamed.Select(r => r.To).Order(StringComparer.Ordinal), Is.EqualTo(Composed), "exclusive.down.sql renames");
        Assert.That(renamed.All(r => r.To == SplitUsersIntoProfileTables.RolledBackPrefix + r.From), Is.True,
            "each table keeps its own name after the prefix: " + string.Join(", ", renamed.Select(r => $"{r.From} → {r.To}")));
    }

    [Test]
    public void The_finish_step_drops_exactly_the_renamed_tables()
    {
        var sql = SqlScripts.Load("SplitUsersIntoProfileTables.rolled_back_tables.drop.sql");
        var dropped = RolledBackName().Matches(string.Join('\n', sql.Split('\n').Where(line => !line.TrimStart().StartsWith("--", StringComparison.Ordinal))))
            .Select(m => m.Value).Order(StringComparer.Ordinal).ToArray();

        Assert.That(dropped, Is.EqualTo(Composed), "rolled_back_tables.drop.sql drops");
    }

    [GeneratedRegex(@"ALTER\s+TABLE\s+(?<from>\w+)\s+RENAME\s+TO\s+(?<to>\w+)", RegexOptions.IgnoreCase)]
    private static partial Regex Rename();

    [GeneratedRegex(@"\biamvet_rolled_back_\w+")]
    private static partial Regex RolledBackName();
}
