using System.Text;
using Npgsql;

namespace IamVet.Schema.Runner.Verification;

/// <summary>The legacy side of one moved table: its projection's fingerprint and the source rows per user type.</summary>
public sealed record LegacySide(TableFingerprint Fingerprint, long SourceRowsAll, long SourceRowsActive);

/// <summary>What one <see cref="LegacyPass"/> read.</summary>
public sealed record LegacyPassResult(
    IReadOnlyDictionary<string, LegacySide> Projections,
    IReadOnlyList<TableFingerprint> FullTables);

/// <summary>
/// Everything verification needs from the legacy tables, in as few scans as the data allows: one
/// pass over users computes, together, the projection fingerprint and the counts (all users and
/// active ones) of every planned profile table, and — when asked — the full-row fingerprint of
/// users; one pass over each side table does the same for the table built from it and for the
/// side table itself. The old shape ran one query per projection, per count and per full
/// fingerprint, which read users seven times and more.
/// </summary>
public static class LegacyPass
{
    /// <summary>
    /// Runs the passes <paramref name="projections"/> and <paramref name="fullTables"/> call for: side
    /// by side on <paramref name="readers"/> when given (connections sharing the snapshot of
    /// <paramref name="transaction"/>), otherwise one after the other on <paramref name="connection"/>.
    /// </summary>
    public static async Task<LegacyPassResult> RunAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        IReadOnlyCollection<Projection> projections,
        bool fullTables,
        SnapshotReaders? readers,
        CancellationToken cancellationToken)
    {
        var sides = new Dictionary<string, LegacySide>(StringComparer.Ordinal);
        if (!await Sql.TableExistsAsync(connection, "users", cancellationToken, transaction))
        {
            // No legacy tables (yet): the baseline of this plan creates them empty, so nothing moves.
            foreach (var projection in projections)
            {
                sides[projection.Table] = new LegacySide(new TableFingerprint(projection.Table, 0, "0"), 0, 0);
            }

            return new LegacyPassResult(sides, []);
        }

        var jobs = new List<Func<NpgsqlConnection, NpgsqlTransaction?, Task<Pass>>>();
        var users = projections.Where(p => p.Source == LegacySource.Users).ToList();
        if (fullTables || users.Count > 0)
        {
            jobs.Add((c, t) => UsersPassAsync(c, t, users, fullTables, cancellationToken));
        }

        foreach (var table in TableFingerprints.LegacyTables.Where(t => t != "users"))
        {
            var projection = projections.FirstOrDefault(p => p.SideTable == table);
            if (fullTables || projection is not null)
            {
                jobs.Add((c, t) => SideTablePassAsync(c, t, table, projection, fullTables, HospitalUsers, cancellationToken));
            }
        }

        Pass[] passes;
        if (readers is null)
        {
            passes = new Pass[jobs.Count];
            for (var i = 0; i < jobs.Count; i++)
            {
                passes[i] = await jobs[i](connection, transaction);
            }
        }
        else
        {
            passes = await readers.RunAsync(jobs.Select(job => (Func<NpgsqlConnection, NpgsqlTransaction, Task<Pass>>)((c, t) => job(c, t))).ToList(), cancellationToken);
        }

        return Result(passes);
    }

    private static LegacyPassResult Result(IEnumerable<Pass> passes)
    {
        var list = passes.ToList();
        var sides = list.SelectMany(p => p.Sides).ToDictionary(s => s.Table, s => s.Side, StringComparer.Ordinal);
        var full = list.SelectMany(p => p.Full).OrderBy(f => TableFingerprints.LegacyTables.ToList().IndexOf(f.Name)).ToList();
        return new LegacyPassResult(sides, full);
    }

    /// <summary>
    /// The up's legacy side, read while the migrations run, on <paramref name="readers"/> opened with
    /// <see cref="PrepareReaders"/> while the owner holds the legacy tables against writers: the pass
    /// over users, then one pass per side table (which needs nothing of users but each reader's copy
    /// of the HOSPITAL users' ids, made from the snapshot as the reader starts). Nothing is awaited here: the
    /// migrations lock users against readers only in their last statements, after the exclusive-lock
    /// gate, which awaits the returned task first (docs/adr/0006). Legacy tables only: a snapshot
    /// never shows the owner's own changes, and none of the up's migrations writes a legacy table,
    /// which the migrate stage holds against other writers.
    /// </summary>
    public static async Task<Task<LegacyPassResult>> StartAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        IReadOnlyCollection<Projection> projections,
        SnapshotReaders readers,
        CancellationToken cancellationToken)
    {
        if (!await Sql.TableExistsAsync(connection, "users", cancellationToken, transaction))
        {
            return Task.FromResult(await RunAsync(connection, transaction, projections, fullTables: true, readers: null, cancellationToken));
        }

        var users = projections.Where(p => p.Source == LegacySource.Users).ToList();
        var jobs = TableFingerprints.LegacyTables.Where(t => t != "users")
            .Select(table => (Func<NpgsqlConnection, NpgsqlTransaction, Task<Pass>>)((c, t) =>
                SideTablePassAsync(c, t, table, projections.FirstOrDefault(p => p.SideTable == table), fullTables: true, HospitalUsersFromCopy, cancellationToken)))
            .Prepend((c, t) => UsersPassAsync(c, t, users, fullTables: true, cancellationToken))
            .ToList();
        return CombineAsync(readers.RunAsync(jobs, cancellationToken));

        static async Task<LegacyPassResult> CombineAsync(Task<Pass[]> passes) => Result(await passes);
    }

    /// <summary>Each reader's session copy of the HOSPITAL users' ids (see <see cref="StartAsync"/>).</summary>
    public const string HospitalUsersCopy = "pg_temp.iamvet_verify_hospital_users";

    /// <summary>
    /// What <see cref="StartAsync"/>'s readers must be opened with (<see cref="SnapshotReaders.OpenAsync"/>'s
    /// prepare): the copy of the HOSPITAL users in each reader's session. When users stays readable
    /// until the exclusive-lock gate it is made in the reader's one transaction from the snapshot
    /// itself, while the migrations already run; otherwise (the cleanup locks users from its first
    /// statement) before the snapshot is exported, equal to it only because the owner holds users
    /// against writers from before then (the migrate stage's SHARE lock). The side-table passes and
    /// checks that need those ids read this small table instead of all of users each.
    /// </summary>
    public const string PrepareReaders = $"""
        DROP TABLE IF EXISTS {HospitalUsersCopy};
        CREATE TEMP TABLE {HospitalUsersCopy} AS SELECT id, "userType", "isActive" FROM users WHERE "userType" = 'HOSPITAL';
        ANALYZE {HospitalUsersCopy}
        """;

    private const string HospitalUsers = """(SELECT id, "userType", "isActive" FROM users WHERE "userType" = 'HOSPITAL')""";

    private const string HospitalUsersFromCopy = $"""(SELECT id, "userType", "isActive" FROM {HospitalUsersCopy})""";

    private sealed record Pass(IReadOnlyList<TableFingerprint> Full, IReadOnlyList<(string Table, LegacySide Side)> Sides);

    private static async Task<Pass> UsersPassAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, List<Projection> projections, bool fullTables, CancellationToken cancellationToken)
    {
        var select = new StringBuilder("count(*), ");
        select.Append(fullTables ? TableFingerprints.HashSum($"ROW({await TableFingerprints.ColumnsAsync(connection, "users", "u", transaction, cancellationToken)})") : "NULL::text");
        foreach (var p in projections)
        {
            select.Append($",\n count(*) FILTER (WHERE {p.LegacyFilter}), count(*) FILTER (WHERE {p.LegacyFilter} AND u.\"isActive\"), {TableFingerprints.HashSum($"ROW({p.LegacyRow})", p.LegacyFilter)}");
        }

        var joins = projections.Any(p => p.Table == "hospitals") ? Projections.NewestLicenceJoin : "";
        await using var command = new NpgsqlCommand($"SELECT {select}\nFROM users u\n{joins}", connection, transaction) { CommandTimeout = 0 };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var sides = new List<(string, LegacySide)>();
        for (var i = 0; i < projections.Count; i++)
        {
            var all = reader.GetInt64(2 + (3 * i));
            sides.Add((projections[i].Table, new LegacySide(new TableFingerprint(projections[i].Table, all, reader.GetString(4 + (3 * i))), all, reader.GetInt64(3 + (3 * i)))));
        }

        return new Pass(fullTables ? [new TableFingerprint("users", reader.GetInt64(0), reader.GetString(1))] : [], sides);
    }

    /// <summary>
    /// The legacy side of <paramref name="projection"/> row by row, what its pass fingerprints: for
    /// naming the users behind a mismatch (<see cref="Verifier"/>), never on the way to COMMIT.
    /// </summary>
    public static string RowsSql(Projection projection) => projection.Source == LegacySource.Users
        ? $"SELECT {projection.LegacyRow} FROM users u {(projection.Table == "hospitals" ? Projections.NewestLicenceJoin : "")} WHERE {projection.LegacyFilter}"
        : $"SELECT {projection.LegacyRow} FROM {Ranked(projection)} JOIN {HospitalUsers} u ON u.id = s.\"userId\" WHERE ({projection.LegacyFilter}) AND s.first";

    /// <summary>
    /// A side table as <c>s</c> with what its projection needs: images rank per user (imageOrder 1,
    /// 2, 3 … by displayOrder, createdAt, id); animals and specialties keep the first row of each
    /// duplicate group, so the projection holds each (user, value) once.
    /// </summary>
    private static string Ranked(Projection projection)
    {
        var extra = projection.SideTable == "hospital_facility_images"
            ? """row_number() OVER (PARTITION BY s."userId" ORDER BY s."displayOrder", s."createdAt", s.id) AS rank, true AS first"""
            : $"row_number() OVER (PARTITION BY {projection.LegacyRow}) = 1 AS first";
        return $"(SELECT s.*, {extra} FROM public.{Identifiers.Quote(projection.SideTable!)} s) s";
    }

    /// <summary>
    /// One side table: its full-row fingerprint, and the projection of the rows of HOSPITAL users
    /// (the only ones that move). Every row of a user shares that user's type, so ranking or
    /// grouping per user over all rows gives the same result as over the moved rows alone.
    /// </summary>
    private static async Task<Pass> SideTablePassAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string table, Projection? projection, bool fullTables, string hospitalUsers, CancellationToken cancellationToken)
    {
        var fullRow = fullTables ? $"ROW({await TableFingerprints.ColumnsAsync(connection, table, "s", transaction, cancellationToken)})" : null;
        string sql;
        if (projection is null)
        {
            sql = $"SELECT count(*), {TableFingerprints.HashSum(fullRow!)} FROM public.{Identifiers.Quote(table)} s";
        }
        else
        {
            // The projection holds each moved row once (Ranked) while the counts and the full-row
            // fingerprint see every row.
            var moves = $"({projection.LegacyFilter}) AND s.first";
            sql = $"""
                SELECT count(*), {(fullRow is null ? "NULL::text" : TableFingerprints.HashSum(fullRow))},
                       count(*) FILTER (WHERE {projection.LegacyFilter}), count(*) FILTER (WHERE {projection.LegacyFilter} AND u."isActive"),
                       count(*) FILTER (WHERE {moves}), {TableFingerprints.HashSum($"ROW({projection.LegacyRow})", moves)}
                FROM {Ranked(projection)}
                -- Only the rows of HOSPITAL users move (u is NULL for every other row).
                LEFT JOIN {hospitalUsers} u ON u.id = s."userId"
                """;
        }

        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var sides = projection is null
            ? []
            : new List<(string, LegacySide)>
            {
                (projection.Table, new LegacySide(new TableFingerprint(projection.Table, reader.GetInt64(4), reader.GetString(5)), reader.GetInt64(2), reader.GetInt64(3))),
            };
        return new Pass(fullTables ? [new TableFingerprint(table, reader.GetInt64(0), reader.GetString(1))] : [], sides);
    }
}
