namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>
/// What the new application does during the expand phase, as plain SQL: it signs users up without
/// users."realName" (the name lives in the profile tables now) and without any moved column.
/// </summary>
public static class NewApplication
{
    public static async Task SignUpAsync(TestDatabase database, string id, string userType)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO users (id, email, phone, "userType", "termsAgreedAt", "privacyAgreedAt", "updatedAt")
            VALUES (@id, @id || '@new.iamvet.test', '010-new-' || @id, @userType::"UserType", now(), now(), now())
            """, connection);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("userType", userType);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// The veterinarian v9 signs up: its users row without any moved column, and its profile only in
    /// veterinarians (id cuid-v9: 신규수의, born 1995-06-07, nickname newvet, licence https://cdn/v9/licence.png).
    /// </summary>
    public static async Task SignUpVeterinarianV9Async(TestDatabase database)
    {
        await SignUpAsync(database, "v9", "VETERINARIAN");
        await database.ExecuteAsync("""
            INSERT INTO veterinarians (id, "userId", "realName", "birthDate", nickname, "licenseImage")
            VALUES ('cuid-v9', 'v9', '신규수의', '1995-06-07', 'newvet', 'https://cdn/v9/licence.png');
            """);
    }

    /// <summary>
    /// The hospital h9 (whose hospitals row cuid-h9 the caller has written) adds the treatment animals
    /// DOG (cuid-ani1) and CAT (cuid-ani2) and the specialty 내과 (cuid-spc1), all at 2025-10-01 09:00:00.
    /// </summary>
    public static Task AddTreatmentsOfHospitalH9Async(TestDatabase database) => database.ExecuteAsync("""
        INSERT INTO hospital_treatment_animals (id, "hospitalId", "userId", "animalType", "createdAt") VALUES
            ('cuid-ani1', 'cuid-h9', 'h9', 'DOG', '2025-10-01 09:00:00'),
            ('cuid-ani2', 'cuid-h9', 'h9', 'CAT', '2025-10-01 09:00:00');
        INSERT INTO hospital_treatment_specialties (id, "hospitalId", "userId", specialty, "createdAt")
            VALUES ('cuid-spc1', 'cuid-h9', 'h9', '내과', '2025-10-01 09:00:00');
        """);
}
