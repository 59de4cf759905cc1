namespace IamVet.Schema.Migrations.Infrastructure;

/// <summary>
/// Marks a migration that a plain <c>migrate up</c> never applies: it runs only when the operator
/// asks for it by name (the runner's <c>--cleanup</c>) or targets its version explicitly. Used for
/// the destructive contract step, which must wait until the new application has proven itself.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RequiresExplicitRequestAttribute(string flag) : Attribute
{
    /// <summary>The runner flag that requests this migration, e.g. <c>--cleanup</c>.</summary>
    public string Flag { get; } = flag;
}
