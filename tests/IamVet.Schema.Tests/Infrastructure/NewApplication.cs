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
}
