using CsCheck;
using NpgsqlTypes;

namespace IamVet.Schema.Tests.Properties;

/// <summary>A user the new application signs up after the up: its users row, and its profile under an id of its own.</summary>
public sealed record NewSignUp(
    string UserType,
    string ProfileId,
    DateTime? FineDate,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    IReadOnlyList<NewSideRow> Images,
    IReadOnlyList<NewSideRow> Animals);

/// <summary>An image or treatment animal the new application adds to its new hospital: its own id, a value, microsecond times.</summary>
public sealed record NewSideRow(string Id, string Value, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>
/// What the new application writes to the new tables after the up that the legacy side cannot hold as
/// it is (docs/adr/0002): ids of its own (sign-ups, and every <see cref="EditEvery"/>-th existing
/// veterinarian, hospital and treatment animal given a new one) and sub-millisecond timestamps (the
/// same rows' birthDate, establishedDate, createdAt and updatedAt moved by <see cref="OffsetMicros"/>;
/// every such image's updatedAt and specialty's createdAt). A rollback and the next up must give all
/// of it back exactly.
/// </summary>
public sealed record NewApplicationWrites(int EditEvery, int OffsetMicros, IReadOnlyList<NewSignUp> SignUps)
{
    public static readonly NewApplicationWrites None = new(0, 0, []);

    private static readonly Gen<DateTime> Micros = Gen.Long[new DateTime(2025, 10, 1).Ticks / TimeSpan.TicksPerMicrosecond,
                                                             new DateTime(2026, 12, 31).Ticks / TimeSpan.TicksPerMicrosecond]
        .Select(us => new DateTime(us * TimeSpan.TicksPerMicrosecond));

    private static readonly Gen<string> OwnId = Gen.Select(Gen.OneOfConst("c", "cm", "cuid_", "himg_", "hta_", "vet_app_"), Gen.String[Gen.Char.AlphaNumeric, 1, 16], (p, s) => p + s);

    private static readonly Gen<NewSideRow> SideRow = Gen.Select(OwnId, Gen.OneOfConst("개", "고양이", "BIRD", "https://cdn/new/a.jpg", "https://cdn/new/b.png"), Micros, Micros,
        (id, value, created, updated) => new NewSideRow(id, value, created, updated));

    private static readonly Gen<NewSignUp> SignUp = Gen.Select(
        Gen.OneOfConst("VETERINARIAN", "VETERINARY_STUDENT", "HOSPITAL"), OwnId, Gen.Frequency((1, Gen.Const((DateTime?)null)), (3, Micros.Select(d => (DateTime?)d))),
        Micros, Micros, SideRow.Array[0, 3], SideRow.Array[0, 3],
        (type, id, date, created, updated, images, animals) => new NewSignUp(type, id, date, created, updated, images, animals));

    public static readonly Gen<NewApplicationWrites> Generator = Gen.Select(Gen.Int[0, 3], Gen.Int[1, 999], SignUp.Array[0, 3],
        (every, micros, signUps) => new NewApplicationWrites(every, micros, signUps));

    /// <summary>Existing rows edited (every n-th by id; none when <see cref="EditEvery"/> is 0), then the sign-ups.</summary>
    private const string Edits = """
        UPDATE veterinarians t SET id = 'cuid-v' || r.n, "birthDate" = t."birthDate" + @d, "updatedAt" = t."updatedAt" + @d
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM veterinarians) r WHERE r.id = t.id AND r.n % @every = 0;
        UPDATE veterinary_students t SET "birthDate" = t."birthDate" + @d, "createdAt" = t."createdAt" + @d
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM veterinary_students) r WHERE r.id = t.id AND r.n % @every = 0;
        UPDATE hospitals t SET id = 'cuid-h' || r.n, "establishedDate" = t."establishedDate" + @d, "createdAt" = t."createdAt" + @d
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM hospitals) r WHERE r.id = t.id AND r.n % @every = 0;
        UPDATE hospital_images t SET "updatedAt" = t."updatedAt" + @d
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM hospital_images) r WHERE r.id = t.id AND r.n % @every = 0;
        UPDATE hospital_treatment_animals t SET id = 'cuid-a' || r.n, "createdAt" = t."createdAt" + @d
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM hospital_treatment_animals) r WHERE r.id = t.id AND r.n % @every = 0;
        UPDATE hospital_treatment_specialties t SET "createdAt" = t."createdAt" + @d
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM hospital_treatment_specialties) r WHERE r.id = t.id AND r.n % @every = 0;
        """;

    public async Task ApplyAsync(NpgsqlConnection connection)
    {
        await using var batch = new NpgsqlBatch(connection);
        if (EditEvery > 0)
        {
            foreach (var statement in Edits.Split(";\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var command = new NpgsqlBatchCommand(statement.TrimEnd(';'));
                command.Parameters.Add(new NpgsqlParameter("d", NpgsqlDbType.Interval) { Value = TimeSpan.FromTicks(OffsetMicros * TimeSpan.TicksPerMicrosecond) });
                command.Parameters.Add(new NpgsqlParameter("every", NpgsqlDbType.Integer) { Value = EditEvery });
                batch.BatchCommands.Add(command);
            }
        }

        for (var k = 0; k < SignUps.Count; k++)
        {
            var s = SignUps[k];
            var user = $"앱가입-{k}";
            Add(batch, """
                INSERT INTO users (id, email, phone, "userType", "termsAgreedAt", "privacyAgreedAt", "updatedAt")
                VALUES (@user, 'new' || @k || '@new.iamvet.test', '010-app-' || @k, @type::"UserType", now(), now(), now())
                """, ("user", user), ("k", k), ("type", s.UserType));
            var profile = s.UserType switch
            {
                "VETERINARIAN" => """
                    INSERT INTO veterinarians (id, "userId", "realName", "birthDate", "createdAt", "updatedAt")
                    VALUES (@id, @user, '신규수의', @date, @created, @updated)
                    """,
                "VETERINARY_STUDENT" => """
                    INSERT INTO veterinary_students (id, "userId", "realName", "birthDate", "createdAt", "updatedAt")
                    VALUES (@id, @user, '신입생', @date, @created, @updated)
                    """,
                _ => """
                    INSERT INTO hospitals (id, "userId", "hospitalName", "representativeName", "establishedDate", "createdAt", "updatedAt")
                    VALUES (@id, @user, '신규병원', '원장', @date, @created, @updated)
                    """,
            };
            Add(batch, profile, ("id", s.ProfileId), ("user", user), ("date", s.FineDate), ("created", s.CreatedAt), ("updated", s.UpdatedAt));
            if (s.UserType != "HOSPITAL")
            {
                continue;
            }

            for (var j = 0; j < s.Images.Count; j++)
            {
                var image = s.Images[j];
                Add(batch, """
                    INSERT INTO hospital_images (id, "hospitalId", "userId", "imageUrl", "imageOrder", "createdAt", "updatedAt")
                    VALUES (@id || '-' || @k || '-' || @j, @hospital, @user, @url, @j + 1, @created, @updated)
                    """, ("id", image.Id), ("k", k), ("j", j), ("hospital", s.ProfileId), ("user", user), ("url", image.Value), ("created", image.CreatedAt), ("updated", image.UpdatedAt));
            }

            foreach (var (animal, j) in s.Animals.DistinctBy(a => a.Value).Select((a, j) => (a, j)))
            {
                Add(batch, """
                    INSERT INTO hospital_treatment_animals (id, "hospitalId", "userId", "animalType", "createdAt")
                    VALUES (@id || '-' || @k || '-' || @j, @hospital, @user, @type, @created)
                    """, ("id", animal.Id), ("k", k), ("j", j), ("hospital", s.ProfileId), ("user", user), ("type", animal.Value), ("created", animal.CreatedAt));
            }
        }

        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync();
        }
    }

    private static void Add(NpgsqlBatch batch, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(value is DateTime or null
                ? new NpgsqlParameter(name, NpgsqlDbType.Timestamp) { Value = value ?? DBNull.Value }
                : new NpgsqlParameter(name, value));
        }

        batch.BatchCommands.Add(command);
    }

    public string Summary() =>
        $"new application: {SignUps.Count} sign-ups ({SignUps.Sum(s => s.Images.Count)} images, {SignUps.Sum(s => s.Animals.Count)} animals), " +
        (EditEvery == 0 ? "no edits" : $"every {EditEvery}. row edited by {OffsetMicros} µs");
}
