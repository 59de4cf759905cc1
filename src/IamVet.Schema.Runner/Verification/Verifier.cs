using Npgsql;

namespace IamVet.Schema.Runner.Verification;

/// <summary>What verification found: a summary for the report and migration_log, and every mismatch.</summary>
public sealed record VerificationResult(JsonObject Summary, IReadOnlyList<string> Mismatches)
{
    public bool Passed => Mismatches.Count == 0;

    /// <summary>The new-side fingerprints computed for an Up (what the new tables hold now).</summary>
    public IReadOnlyDictionary<string, TableFingerprint> NewSide { get; init; } = new Dictionary<string, TableFingerprint>();

    /// <summary>This result with the mismatches of <paramref name="later"/> (a <see cref="VerifyScope.FinalShape"/> check) added.</summary>
    public VerificationResult With(VerificationResult later)
    {
        var mismatches = Mismatches.Concat(later.Mismatches).ToList();
        var summary = (JsonObject)Summary.DeepClone();
        summary["mismatches"] = new JsonArray(mismatches.Select(m => (JsonNode?)m).ToArray());
        return new VerificationResult(summary, mismatches) { NewSide = NewSide };
    }
}

/// <summary>
/// What <see cref="Verifier.VerifyAsync"/> checks. A migration run checks the data at the exclusive-lock
/// gate, before users is locked (docs/adr/0006), and the final shape (tables gone, columns dropped)
/// just before COMMIT.
/// </summary>
[Flags]
public enum VerifyScope
{
    /// <summary>Every moved value and row, and the keys and indexes of the new tables.</summary>
    Data = 1,

    /// <summary>What only the last statements make true: the new tables gone after a down, the cleanup's columns.</summary>
    FinalShape = 2,

    All = Data | FinalShape,
}

/// <summary>
/// What is taken inside the migration transaction before the first migration runs. Down: what the
/// new tables hold before they go. Up: the legacy side of every moved table and the legacy tables'
/// full-row fingerprints for a later down. When the caller holds the tables the migrations read
/// against writers (the migrate stage), both are read by a snapshot reader while the migrations'
/// data phase runs (<see cref="LegacyPass.StartAsync"/>; the new side of a down likewise) and
/// awaited (<see cref="LegacyBeforeAsync"/>, <see cref="NewSideBeforeAsync"/>) at the exclusive-lock
/// gate, where the verification needs them. Neither side changes while it is read: no migration
/// of an up writes the legacy tables, no Down writes the new tables before the gate, and the
/// readers see the snapshot of before the first migration. Disposing stops whatever is still being
/// read and closes the readers.
/// </summary>
public sealed class VerificationBaseline : IAsyncDisposable
{
    private readonly Task<LegacyPassResult>? legacyBefore;
    private readonly Task<Dictionary<string, TableFingerprint>>? newSideBefore;
    private readonly SnapshotReaders? readers;
    private readonly CancellationTokenSource? stop;
    private readonly List<Task> alongside = [];

    /// <summary>A down's baseline: the new side before the Downs (being read by <paramref name="readers"/>, if given).</summary>
    public VerificationBaseline(Task<Dictionary<string, TableFingerprint>> newSideBefore, SnapshotReaders? readers = null, CancellationTokenSource? stop = null)
    {
        this.newSideBefore = newSideBefore;
        this.readers = readers;
        this.stop = stop;
    }

    /// <summary>An up's baseline: the legacy side (being read by <paramref name="readers"/>, if given).</summary>
    public VerificationBaseline(Task<LegacyPassResult> legacyBefore, SnapshotReaders? readers, CancellationTokenSource? stop)
    {
        this.legacyBefore = legacyBefore;
        this.readers = readers;
        this.stop = stop;
    }

    /// <summary>
    /// A down's new side as it was before the first migration, once read: every planned table's
    /// projection (and every existing moved table's, when it was captured for an exact-restore
    /// comparison); empty for an up.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, TableFingerprint>> NewSideBeforeAsync() =>
        newSideBefore is null ? new Dictionary<string, TableFingerprint>() : await newSideBefore;

    /// <summary>The up's legacy side, once read (null for a down).</summary>
    public async Task<LegacyPassResult?> LegacyBeforeAsync() => legacyBefore is null ? null : await legacyBefore;

    /// <summary>
    /// Queues more read-only work on an up's snapshot readers, to run while the migrations' data phase
    /// does (the exclusive-lock gate awaits it); the jobs may read every legacy table and
    /// <see cref="LegacyPass.HospitalUsersCopy"/>.
    /// Null when there are no such readers (no legacy tables yet, or no readers at all).
    /// </summary>
    public Task<T[]>? RunAlongside<T>(IReadOnlyList<Func<NpgsqlConnection, NpgsqlTransaction, Task<T>>> jobs)
    {
        if (readers is null || stop is null || !HasHospitalUsersCopy)
        {
            return null;
        }

        var task = readers.RunAsync(jobs, stop.Token);
        alongside.Add(task);
        return task;
    }

    /// <summary>Cancelled when this baseline is disposed: for jobs queued with <see cref="RunAlongside"/>.</summary>
    public CancellationToken Stopping => stop?.Token ?? CancellationToken.None;

    /// <summary>Whether the readers' sessions hold <see cref="LegacyPass.HospitalUsersCopy"/>.</summary>
    public bool HasHospitalUsersCopy { get; init; }

    /// <summary>
    /// Throws what the baseline's reading failed with, as soon as it has failed: called between
    /// migrations, so a run whose verification can no longer succeed stops there instead of at the end.
    /// </summary>
    public void ThrowIfFailed()
    {
        if (legacyBefore is { IsFaulted: true })
        {
            legacyBefore.GetAwaiter().GetResult();
        }

        if (newSideBefore is { IsFaulted: true })
        {
            newSideBefore.GetAwaiter().GetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        var all = alongside.Append(legacyBefore).Append(newSideBefore).OfType<Task>().ToList();
        try
        {
            if (all.Any(t => !t.IsCompleted))
            {
                await (stop?.CancelAsync() ?? Task.CompletedTask);
            }

            foreach (var task in all)
            {
                try
                {
                    await task;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // The run already failed, or is failing with what the caller saw first; what the
                    // readers were doing no longer matters.
                }
            }
        }
        finally
        {
            if (readers is not null)
            {
                await readers.DisposeAsync();
            }

            stop?.Dispose();
        }
    }
}

/// <summary>
/// Proves, inside the migration transaction and before COMMIT, that the data arrived: per moved
/// table, the legacy-side and new-side projections have equal counts and fingerprints (every
/// moved column, every side row mapped exactly once), the counts per user type (all users, and
/// the runbook's active-only numbers beside them), and the keys, foreign keys and indexes of the
/// target shape. For Down, the reverse: the legacy side holds what the new tables held. Everything
/// is computed by set-based aggregates in PostgreSQL; no row data passes through the runner.
/// </summary>
public static class Verifier
{
    /// <summary>
    /// Takes the baseline before the first migration. With <paramref name="readersDatabase"/>
    /// its independent aggregates run side by side on a few more connections (role verify) that import the
    /// snapshot of <paramref name="transaction"/> (see <see cref="SnapshotReaders"/>), which must not
    /// have written yet. When <paramref name="readTablesHeld"/> (the caller holds the tables the
    /// migrations read against writers until it commits, as the migrate stage does: an up's legacy
    /// tables, a down's new tables), the baseline is read on one reader while the migrations run
    /// (an up's side-table passes; a down's new side); and for an up, when also
    /// <paramref name="usersReadableUntilGate"/> (no migration of the plan locks users ACCESS
    /// EXCLUSIVE before its exclusive-lock gate, which disposes the readers first), the reader makes
    /// its copy of the HOSPITAL users alongside too, in one transaction with all its passes. A down
    /// with <paramref name="everyExistingTable"/> reads every moved table that exists, not only the
    /// planned ones (an exact-restore comparison needs them all). The caller disposes the result.
    /// </summary>
    public static async Task<VerificationBaseline> CaptureAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, MigrationPlan plan, MigrationDatabase? readersDatabase, CancellationToken cancellationToken,
        bool readTablesHeld = false, bool usersReadableUntilGate = false, bool everyExistingTable = false)
    {
        await WorkMemAsync(connection, transaction, cancellationToken);
        if (plan.Direction == MigrationDirection.Down)
        {
            var projections = everyExistingTable ? await ExistingAsync(connection, transaction, cancellationToken) : ProjectionsOf(plan).ToList();
            if (readersDatabase is null || !readTablesHeld)
            {
                await using var downReaders = readersDatabase is null
                    ? null
                    : await SnapshotReaders.OpenAsync(connection, transaction, readersDatabase, SnapshotReaders.DefaultCount, cancellationToken);
                return new VerificationBaseline(Task.FromResult(await NewSideAsync(connection, transaction, projections, downReaders, cancellationToken)));
            }

            // One reader beside the migration's own backend, as for an up: the Downs run on one core.
            var newSideReaders = await SnapshotReaders.OpenAsync(connection, transaction, readersDatabase, 1, cancellationToken);
            var stopNewSide = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            return new VerificationBaseline(NewSideAsync(connection, transaction, projections, newSideReaders, stopNewSide.Token), newSideReaders, stopNewSide);
        }

        if (readersDatabase is null || !readTablesHeld)
        {
            await using var snapshotReaders = readersDatabase is null
                ? null
                : await SnapshotReaders.OpenAsync(connection, transaction, readersDatabase, SnapshotReaders.DefaultCount, cancellationToken);
            return new VerificationBaseline(
                Task.FromResult(await LegacyPass.RunAsync(connection, transaction, ProjectionsOf(plan).ToList(), fullTables: true, snapshotReaders, cancellationToken)), null, null);
        }

        var usersExist = await Sql.TableExistsAsync(connection, "users", cancellationToken, transaction);
        // One reader beside the migration's own backend: the passes share the cores with the migrations.
        var readers = await SnapshotReaders.OpenAsync(connection, transaction, readersDatabase, 1, cancellationToken,
            usersExist ? LegacyPass.PrepareReaders : null, prepareAlongside: usersReadableUntilGate);
        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            return new VerificationBaseline(await LegacyPass.StartAsync(connection, transaction, ProjectionsOf(plan).ToList(), readers, stop.Token), readers, stop)
            {
                HasHospitalUsersCopy = usersExist,
            };
        }
        catch
        {
            await readers.DisposeAsync();
            stop.Dispose();
            throw;
        }
    }

    /// <summary>The new-side projection fingerprints of <paramref name="projections"/>.</summary>
    public static async Task<Dictionary<string, TableFingerprint>> NewSideAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, IEnumerable<Projection> projections, SnapshotReaders? readers, CancellationToken cancellationToken,
        bool rightAfterUp = false)
    {
        string Sql(Projection p) => rightAfterUp ? p.NewSideRightAfterUp ?? p.NewSide : p.NewSide;
        var list = projections.ToList();
        IReadOnlyList<TableFingerprint> fingerprints;
        if (readers is null)
        {
            fingerprints = await TableFingerprints.OfQueriesAsync(connection, list.Select(p => (p.Table, Sql(p))).ToList(), transaction, cancellationToken);
        }
        else
        {
            fingerprints = await readers.RunAsync(list
                .Select(p => (Func<NpgsqlConnection, NpgsqlTransaction, Task<TableFingerprint>>)((c, t) => TableFingerprints.OfQueryAsync(c, p.Table, Sql(p), t, cancellationToken)))
                .ToList(), cancellationToken);
        }

        return fingerprints.ToDictionary(f => f.Name, StringComparer.Ordinal);
    }

    /// <summary>
    /// Whether the new tables hold what they held right after the up, compared by their new-side
    /// projections (<paramref name="before"/>: every moved table that exists, as the down found them):
    /// the columns and rows every Down reads back into the legacy tables. A write
    /// elsewhere (an updatedAt, a postalCode, a new id for an existing row) changes nothing a Down
    /// writes to the legacy tables, so the exact-restore expectation stands; any write a Down would
    /// carry back shows here and lifts it.
    /// </summary>
    public static bool NewSideUnchanged(IReadOnlyDictionary<string, TableFingerprint> before, IReadOnlyList<TableFingerprint> recorded) =>
        recorded.Count > 0 && recorded.Count == before.Count && recorded.All(r => before.TryGetValue(r.Name, out var n) && n == r);

    /// <summary>The new-side projection of every moved table that exists, reusing those already computed.</summary>
    public static async Task<Dictionary<string, TableFingerprint>> NewSideOfEveryMovedTableAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyDictionary<string, TableFingerprint> known, CancellationToken cancellationToken)
    {
        var existing = await ExistingAsync(connection, transaction, cancellationToken);
        var result = await NewSideAsync(connection, transaction, existing.Where(p => !known.ContainsKey(p.Table)), readers: null, cancellationToken);
        foreach (var projection in existing.Where(p => known.ContainsKey(p.Table)))
        {
            result[projection.Table] = known[projection.Table];
        }

        return existing.ToDictionary(p => p.Table, p => result[p.Table], StringComparer.Ordinal);
    }

    /// <summary>The moved tables that exist now, in the order of their migrations.</summary>
    public static async Task<List<Projection>> ExistingAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT array_agg(t) FROM unnest(@tables) t WHERE to_regclass('public.' || quote_ident(t)) IS NOT NULL", connection, transaction);
        command.Parameters.AddWithValue("tables", Projections.All.Select(p => p.Table).ToArray());
        var existing = await command.ExecuteScalarAsync(cancellationToken) as string[] ?? [];
        return Projections.All.Where(p => existing.Contains(p.Table)).ToList();
    }

    public static async Task<VerificationResult> VerifyAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        MigrationPlan plan,
        VerificationBaseline baseline,
        IReadOnlyList<TableFingerprint>? expectedLegacyAfterDown,
        CancellationToken cancellationToken,
        bool rightAfterUp = false,
        VerifyScope scope = VerifyScope.All)
    {
        await WorkMemAsync(connection, transaction, cancellationToken);
        // No JIT from here to COMMIT (only the verification and the last, exclusive statements
        // follow): see MigrationDatabase, which turns it off on every connection but the migration's.
        await Sql.ExecuteAsync(connection, "SET LOCAL jit = off", cancellationToken, transaction);
        var mismatches = new List<string>();
        var tables = new JsonObject();
        var summary = new JsonObject { ["direction"] = plan.Direction.ToString().ToLowerInvariant(), ["tables"] = tables };
        var projections = ProjectionsOf(plan).ToList();
        var newSide = new Dictionary<string, TableFingerprint>(StringComparer.Ordinal);

        if (!scope.HasFlag(VerifyScope.Data))
        {
            // Only the final shape.
        }
        else if (plan.Direction == MigrationDirection.Up)
        {
            var legacySides = (await baseline.LegacyBeforeAsync())?.Projections
                ?? throw new InvalidOperationException("an up is verified against the legacy side captured before it");
            newSide = await NewSideAsync(connection, transaction, projections, readers: null, cancellationToken, rightAfterUp);
            var missing = await MissingStructureAsync(connection, transaction, projections, cancellationToken);
            foreach (var projection in projections)
            {
                var legacy = legacySides[projection.Table];
                var target = newSide[projection.Table];
                tables[projection.Table] = new JsonObject
                {
                    ["legacyRows"] = legacy.Fingerprint.Rows,
                    ["newRows"] = target.Rows,
                    ["sourceRowsAll"] = legacy.SourceRowsAll,
                    ["sourceRowsActive"] = legacy.SourceRowsActive,
                    ["fingerprintMatch"] = legacy.Fingerprint.Hash == target.Hash && legacy.Fingerprint.Rows == target.Rows,
                };
                if (legacy.Fingerprint.Rows != target.Rows)
                {
                    mismatches.Add($"{projection.Table}: the legacy side has {legacy.Fingerprint.Rows} row(s) to move, the new table holds {target.Rows}; " +
                                   await DifferingUsersAsync(connection, projection, rightAfterUp, cancellationToken));
                }
                else if (legacy.Fingerprint.Hash != target.Hash)
                {
                    mismatches.Add($"{projection.Table}: {legacy.Fingerprint.Rows} row(s) on both sides, but the moved values differ (fingerprint mismatch); " +
                                   await DifferingUsersAsync(connection, projection, rightAfterUp, cancellationToken));
                }

                mismatches.AddRange(missing.Where(m => m.StartsWith(projection.Table + ":", StringComparison.Ordinal)));
            }
        }
        else
        {
            // With the new tables exactly as the up left them (exactRestoreExpected), the Downs write
            // back what the up moved: a side table whose full-row fingerprint is again what it was
            // before that up holds exactly what the up verified its new table received, which is what
            // that table held before this down, so its comparison is proven by equalities each
            // checked. Only the side tables that differ (or all, without that expectation) are read
            // again for their projection. users is read once, for its full fingerprint and the three
            // profile tables' projections together: a live application writes a users column no new
            // table carries (lastLoginAt at every login), so users alone is seldom unchanged.
            var newSideBefore = await baseline.NewSideBeforeAsync();
            var exactExpected = expectedLegacyAfterDown is { Count: > 0 };
            var first = await LegacyPass.RunAsync(connection, transaction,
                exactExpected ? projections.Where(p => p.Source == LegacySource.Users).ToList() : projections, fullTables: exactExpected, readers: null, cancellationToken);
            var exact = exactExpected ? first : null;
            var differing = exact is null
                ? []
                : TableFingerprints.LegacyTables
                    .Where(t => exact.FullTables.FirstOrDefault(f => f.Name == t) is not { } f
                                || expectedLegacyAfterDown!.FirstOrDefault(e => e.Name == t) is not { } e
                                || e.Rows != f.Rows || e.Hash != f.Hash)
                    .ToList();
            var rest = projections.Where(p => !first.Projections.ContainsKey(p.Table) && differing.Contains(p.SideTable!)).ToList();
            var second = rest.Count == 0 ? null : await LegacyPass.RunAsync(connection, transaction, rest, fullTables: false, readers: null, cancellationToken);
            foreach (var projection in projections)
            {
                var before = newSideBefore[projection.Table];
                var read = first.Projections.GetValueOrDefault(projection.Table) ?? second?.Projections.GetValueOrDefault(projection.Table);
                var after = read?.Fingerprint ?? before; // not read: proven by the exact restore of its side table
                tables[projection.Table] = new JsonObject
                {
                    ["legacyRows"] = after.Rows,
                    ["newRowsBefore"] = before.Rows,
                    ["fingerprintMatch"] = before.Hash == after.Hash && before.Rows == after.Rows,
                    ["byExactRestore"] = read is null,
                };
                if (before.Rows != after.Rows || before.Hash != after.Hash)
                {
                    mismatches.Add($"{projection.Table}: the legacy side does not hold what the table held before the rollback " +
                                   $"({before.Rows} row(s) in {projection.Table}, {after.Rows} on the legacy side{(before.Rows == after.Rows ? ", values differ" : "")})");
                }
            }

            if (exact is not null)
            {
                // Nothing the Downs carry back was written since the up. The legacy tables may still
                // differ from before the up in columns no new table carries (users."lastLoginAt" at
                // every login): that is the application's doing, not the rollback's, and every moved
                // table was then compared on its own above. The summary says which it was.
                summary["exactRestore"] = differing.Count == 0;
                if (differing.Count > 0)
                {
                    summary["changedSinceUp"] = new JsonArray(differing.Select(name => (JsonNode?)name).ToArray());
                }
            }
        }

        if (scope.HasFlag(VerifyScope.FinalShape) && plan.Direction == MigrationDirection.Down)
        {
            var stillThere = (await ExistingAsync(connection, transaction, cancellationToken)).Select(p => p.Table).ToHashSet();
            mismatches.AddRange(projections.Where(p => stillThere.Contains(p.Table)).Select(p => $"{p.Table}: still exists after the rollback"));
        }

        if (scope.HasFlag(VerifyScope.FinalShape) && plan.Steps.Any(step => step.Version == Versions.Cleanup))
        {
            var left = await Sql.ScalarAsync<long>(connection, """
                SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'users'
                  AND column_name IN ('realName','birthDate','businessNumber','establishedDate','hospitalAddress','hospitalAddressDetail',
                                      'hospitalLogo','hospitalName','hospitalWebsite','licenseImage','nickname','universityEmail')
                """, cancellationToken, transaction);
            var expected = plan.Direction == MigrationDirection.Up ? 0 : 12;
            if (left != expected)
            {
                mismatches.Add($"cleanup: users has {left} of the 12 moved columns, expected {expected}");
            }
        }

        summary["mismatches"] = new JsonArray(mismatches.Select(m => (JsonNode?)m).ToArray());
        return new VerificationResult(summary, mismatches) { NewSide = newSide };
    }

    /// <summary>
    /// The users whose rows differ between the two sides of <paramref name="projection"/> (a row on
    /// one side that the other lacks, or holds with other values), named as the audit names
    /// offenders: <c>N user(s) differ. Ids: a, b, ….</c> Read only once a fingerprint has differed,
    /// in the transaction being verified.
    /// </summary>
    private static async Task<string> DifferingUsersAsync(NpgsqlConnection connection, Projection projection, bool rightAfterUp, CancellationToken cancellationToken)
    {
        var newSide = rightAfterUp ? projection.NewSideRightAfterUp ?? projection.NewSide : projection.NewSide;
        var legacy = LegacyPass.RowsSql(projection);
        var (count, ids) = await DataAudit.CountAsync(connection, $"""
            SELECT d."userId" FROM ((SELECT * FROM ({newSide}) n EXCEPT ALL SELECT * FROM ({legacy}) l)
                                    UNION ALL (SELECT * FROM ({legacy}) l EXCEPT ALL SELECT * FROM ({newSide}) n)) d
            """, cancellationToken);
        return $"{count} user(s) differ. {DataAudit.IdsText(count, ids)}";
    }

    private static IEnumerable<Projection> ProjectionsOf(MigrationPlan plan) =>
        plan.Steps.SelectMany(step => Projections.Of(step.Version));

    /// <summary>
    /// The verification's aggregates group, rank and hash-join up to a million rows: give them the
    /// memory the migrations themselves take (SET LOCAL: this transaction only).
    /// </summary>
    private static async Task WorkMemAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await Sql.ExecuteAsync(connection, "SET LOCAL work_mem = '256MB'", cancellationToken, transaction);
    }

    /// <summary>Every expected constraint and index that is missing, in one catalog query.</summary>
    private static async Task<List<string>> MissingStructureAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<Projection> projections, CancellationToken cancellationToken)
    {
        var expected = projections
            .SelectMany(p => p.ExpectedConstraints.Select(name => (p.Table, Kind: "constraint", Name: name))
                .Concat(p.ExpectedIndexes.Select(name => (p.Table, Kind: "index", Name: name))))
            .ToList();
        await using var command = new NpgsqlCommand("""
            SELECT format('%s: %s %s is missing', e.tbl, e.kind, e.name)
            FROM unnest(@tables, @kinds, @names) WITH ORDINALITY AS e(tbl, kind, name, n)
            WHERE NOT CASE e.kind
                WHEN 'constraint' THEN EXISTS (SELECT FROM pg_constraint WHERE conname = e.name AND conrelid = to_regclass('public.' || quote_ident(e.tbl)))
                ELSE EXISTS (SELECT FROM pg_indexes WHERE schemaname = 'public' AND tablename = e.tbl AND indexname = e.name)
            END
            ORDER BY e.n
            """, connection, transaction);
        command.Parameters.AddWithValue("tables", expected.Select(e => e.Table).ToArray());
        command.Parameters.AddWithValue("kinds", expected.Select(e => e.Kind).ToArray());
        command.Parameters.AddWithValue("names", expected.Select(e => e.Name).ToArray());
        return await Sql.ColumnAsync(command, cancellationToken);
    }
}
