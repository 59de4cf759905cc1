namespace IamVet.Schema.Tests.Properties;

/// <summary>A round-trip property did not hold; the message names the tables, counts and differing rows.</summary>
public sealed class RoundTripMismatchException : Exception
{
    public RoundTripMismatchException()
    {
    }

    public RoundTripMismatchException(string message)
        : base(message)
    {
    }

    public RoundTripMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Runs one generated legacy data set through up → down → up → down and checks, by table fingerprint:
/// after each down the legacy tables hold exactly what was inserted (and the schema is the legacy shape
/// again), and the second up builds new tables identical to the first up's. Then up, the generated new
/// application writes (<see cref="NewApplicationWrites"/>: ids of its own, sub-millisecond timestamps),
/// down → up: the new tables are exactly what they were after the writes, up(down(X)) = X.
/// <para>
/// One database is reused between cases (creating one per case costs a CREATE DATABASE and the baseline
/// each time): a case that passed leaves it at the baseline (with the stash of its last down), which the shape check has just proven, so
/// dropping the stash and truncating the legacy tables is enough. After any failure (a mismatch, or a migration that threw and
/// rolled back, leaving some other version applied) the next case gets a fresh database instead.
/// </para>
/// </summary>
public sealed class RoundTripHarness : IAsyncDisposable
{
    /// <summary>The tables the expand phase creates.</summary>
    public static readonly IReadOnlyList<string> NewTables =
    [
        "veterinarians", "veterinary_students", "hospitals", "hospital_images", "hospital_treatment_animals", "hospital_treatment_specialties",
    ];

    private TestDatabase? database;
    private SchemaSnapshot? legacyShape;
    private bool reusable;

    public int DatabasesCreated { get; private set; }

    /// <summary>Creates the first database now, so a missing server fails the test before any case runs.</summary>
    public async Task StartAsync() => await PrepareAsync();

    /// <summary>The property: throws <see cref="RoundTripMismatchException"/> when it does not hold for <paramref name="data"/>.</summary>
    public async Task CheckAsync(LegacyDataSet data)
    {
        var db = await PrepareAsync();
        reusable = false;

        // Given the generated legacy rows
        await using (var connection = await db.OpenAsync())
        {
            await data.InsertAsync(connection);
        }

        var legacyBefore = await CaptureAsync(db, TableFingerprints.LegacyTables);

        // When up → down
        await Migrator.UpToAsync(db, Migrator.Expanded);
        var firstUp = await CaptureAsync(db, NewTables);
        RequireMoved(data, firstUp);
        await Migrator.DownToAsync(db);

        // Then the legacy tables and shape are back exactly
        Require("up → down changed legacy tables", legacyBefore, await CaptureAsync(db, TableFingerprints.LegacyTables));
        await RequireLegacyShapeAsync(db, "up → down");

        // When up again, then the new tables are the first up's, row for row
        await Migrator.UpToAsync(db, Migrator.Expanded);
        Require("up → down → up built different new tables", firstUp, await CaptureAsync(db, NewTables));

        // And a second down still restores the legacy tables
        await Migrator.DownToAsync(db);
        Require("up → down → up → down changed legacy tables", legacyBefore, await CaptureAsync(db, TableFingerprints.LegacyTables));
        await RequireLegacyShapeAsync(db, "up → down → up → down");

        // When the new application writes ids of its own and sub-millisecond timestamps after an up (X), then down → up
        await Migrator.UpToAsync(db, Migrator.Expanded);
        await using (var connection = await db.OpenAsync())
        {
            await data.Writes.ApplyAsync(connection);
        }

        var written = await CaptureAsync(db, NewTables);
        await Migrator.DownToAsync(db);
        await RequireLegacyShapeAsync(db, "up → new application writes → down", besidesTheStash: true);
        await Migrator.UpToAsync(db, Migrator.Expanded);

        // Then up(down(X)) = X, row for row (and a last down leaves the database at the baseline for the next case)
        Require("up → new application writes → down → up built different new tables", written, await CaptureAsync(db, NewTables));
        await Migrator.DownToAsync(db);
        await RequireLegacyShapeAsync(db, "up → new application writes → down → up → down", besidesTheStash: true);

        reusable = true;
    }

    /// <summary>
    /// Guards against a vacuous pass (an up that moved nothing round-trips trivially): the first up holds one
    /// profile row per user of each type, every facility image of a hospital, and one row per hospital and
    /// animal type or specialty.
    /// </summary>
    private static void RequireMoved(LegacyDataSet data, IReadOnlyList<TableState> firstUp)
    {
        var hospitals = data.Users.Where(u => u.UserType == "HOSPITAL").Select(u => u.Id).ToHashSet(StringComparer.Ordinal);
        var expected = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["veterinarians"] = data.Users.Count(u => u.UserType == "VETERINARIAN"),
            ["veterinary_students"] = data.Users.Count(u => u.UserType == "VETERINARY_STUDENT"),
            ["hospitals"] = hospitals.Count,
            ["hospital_images"] = data.Images.Count(i => hospitals.Contains(i.UserId)),
            ["hospital_treatment_animals"] = data.Animals.Where(a => hospitals.Contains(a.UserId)).Select(a => (a.UserId, a.AnimalType)).Distinct().Count(),
            ["hospital_treatment_specialties"] = data.Specialties.Where(s => hospitals.Contains(s.UserId)).Select(s => (s.UserId, s.Specialty)).Distinct().Count(),
        };
        var wrong = firstUp
            .Where(table => table.Fingerprint.Rows != expected[table.Fingerprint.Name])
            .Select(table => $"{table.Fingerprint.Name}: {table.Fingerprint.Rows} rows, expected {expected[table.Fingerprint.Name]}")
            .ToList();
        if (wrong.Count > 0)
        {
            throw new RoundTripMismatchException("the first up did not move what the legacy data holds:\n  " + string.Join("\n  ", wrong));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (database is not null)
        {
            await database.DisposeAsync();
            database = null;
        }
    }

    /// <summary>
    /// Beyond this attribute number a table is close to PostgreSQL's 1600-column limit. Dropped columns keep
    /// their number for the table's lifetime, and every up → down adds and drops columns again
    /// (AuditColumnsForMigrationLog: 12 on migration_log per up), so a reused database runs out after
    /// about 65 cases; it is replaced well before.
    /// </summary>
    private const int MaxAttributeNumber = 1_200;

    private async Task<TestDatabase> PrepareAsync()
    {
        if (database is not null && reusable && await database.ScalarAsync<int>("""
                SELECT coalesce(max(a.attnum), 0)
                FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind = 'r'
                """) < MaxAttributeNumber)
        {
            await database.ExecuteAsync("""
                DROP TABLE IF EXISTS iamvet_rollback_stash;
                TRUNCATE users, hospital_animals, hospital_specialties, hospital_facility_images, hospital_business_licenses, migration_log
                RESTART IDENTITY
                """);
            return database;
        }

        await DisposeAsync();
        database = await TestDatabase.CreateAsync();
        DatabasesCreated++;
        await Migrator.UpToAsync(database, Versions.Baseline);
        legacyShape ??= await ShapeAsync(database);
        reusable = true;
        return database;
    }

    /// <summary>
    /// The legacy baseline's shape; <paramref name="besidesTheStash"/>: but for iamvet_rollback_stash, where
    /// a down keeps what the new application wrote that the legacy tables cannot hold (docs/adr/0002).
    /// </summary>
    private async Task RequireLegacyShapeAsync(TestDatabase db, string step, bool besidesTheStash = false)
    {
        var diff = legacyShape!.Diff(await ShapeAsync(db))
            .Where(line => !besidesTheStash || !line.Contains(" iamvet_rollback_stash", StringComparison.Ordinal)).ToList();
        if (diff.Count > 0)
        {
            throw new RoundTripMismatchException($"{step} left a schema that is not the legacy baseline:\n  " + string.Join("\n  ", diff.Take(20)));
        }
    }

    private static async Task<SchemaSnapshot> ShapeAsync(TestDatabase db)
    {
        await using var connection = await db.OpenAsync();
        return await SchemaSnapshot.TakeAsync(connection);
    }

    /// <summary>A table's fingerprint, and its rows as JSON (sorted) to show what differs when the fingerprints do.</summary>
    private sealed record TableState(TableFingerprint Fingerprint, IReadOnlyList<string> Rows);

    private static async Task<IReadOnlyList<TableState>> CaptureAsync(TestDatabase db, IEnumerable<string> tables)
    {
        await using var connection = await db.OpenAsync();
        var states = new List<TableState>();
        foreach (var table in tables)
        {
            var fingerprint = await TableFingerprints.OfTableAsync(connection, table);
            states.Add(new TableState(fingerprint, await RowsAsJsonAsync(connection, table)));
        }

        return states;
    }

    private static async Task<IReadOnlyList<string>> RowsAsJsonAsync(NpgsqlConnection connection, string table)
    {
        await using var command = new NpgsqlCommand($"SELECT to_jsonb(t)::text FROM {Identifiers.Quote(table)} t", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    /// <summary>Throws naming every table whose fingerprint differs, with row counts and the first rows only on one side.</summary>
    private static void Require(string what, IReadOnlyList<TableState> expected, IReadOnlyList<TableState> actual)
    {
        var report = new StringBuilder();
        foreach (var (before, after) in expected.Zip(actual))
        {
            if (before.Fingerprint == after.Fingerprint)
            {
                continue;
            }

            report.Append("\n  ").Append(before.Fingerprint.Name).Append(": ")
                .Append(before.Fingerprint.Rows).Append(" rows expected, ").Append(after.Fingerprint.Rows).Append(" found; fingerprint ")
                .Append(before.Fingerprint.Hash).Append(" ≠ ").Append(after.Fingerprint.Hash);
            AppendRowDiff(report, before.Rows, after.Rows);
        }

        if (report.Length > 0)
        {
            throw new RoundTripMismatchException(what + ":" + report);
        }
    }

    /// <summary>
    /// Rows only on one side (a multiset difference: a duplicate that lost a copy counts). A row that exists on
    /// both sides under the same id is shown as the columns that differ; the rest as whole rows. At most 3 each.
    /// </summary>
    private static void AppendRowDiff(StringBuilder report, IReadOnlyList<string> expected, IReadOnlyList<string> found)
    {
        var missing = Except(expected, found).Select(Parse).ToList();
        var unexpected = Except(found, expected).Select(Parse).ToList();
        var changed = new List<string>();
        foreach (var row in missing.ToList())
        {
            var twin = row.Id is null ? null : unexpected.FirstOrDefault(other => other.Id == row.Id);
            if (twin is null)
            {
                continue;
            }

            missing.Remove(row);
            unexpected.Remove(twin);
            var columns = row.Columns.Keys.Union(twin.Columns.Keys, StringComparer.Ordinal)
                .Where(key => row.Columns.GetValueOrDefault(key) != twin.Columns.GetValueOrDefault(key))
                .Select(key => $"{key}: expected {Shorten(row.Columns.GetValueOrDefault(key) ?? "(absent)")}, found {Shorten(twin.Columns.GetValueOrDefault(key) ?? "(absent)")}");
            changed.Add($"id {row.Id}: " + string.Join("; ", columns));
        }

        Append(report, "    changed: ", changed);
        Append(report, "    expected, missing: ", missing.Select(row => Shorten(row.Json)).ToList());
        Append(report, "    found, unexpected: ", unexpected.Select(row => Shorten(row.Json)).ToList());
    }

    private sealed record JsonRow(string Json, string? Id, IReadOnlyDictionary<string, string> Columns);

    private static JsonRow Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var columns = document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetRawText(), StringComparer.Ordinal);
        return new JsonRow(json, columns.TryGetValue("id", out var id) ? id : null, columns);
    }

    private static List<string> Except(IReadOnlyList<string> these, IReadOnlyList<string> others)
    {
        var remaining = others.GroupBy(row => row, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var only = new List<string>();
        foreach (var row in these)
        {
            if (remaining.TryGetValue(row, out var count) && count > 0)
            {
                remaining[row] = count - 1;
            }
            else
            {
                only.Add(row);
            }
        }

        return only;
    }

    private static void Append(StringBuilder report, string label, List<string> lines)
    {
        foreach (var line in lines.Take(3))
        {
            report.Append('\n').Append(label).Append(line);
        }

        if (lines.Count > 3)
        {
            report.Append('\n').Append(label).Append("… and ").Append(lines.Count - 3).Append(" more");
        }
    }

    private static string Shorten(string text) => text.Length > 400 ? text[..400] + "…" : text;
}
