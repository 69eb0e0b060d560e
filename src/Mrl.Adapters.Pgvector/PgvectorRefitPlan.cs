namespace Mrl.Adapters.Pgvector;

/// <summary>What a refit of a projected key does, decided from the table's state and, for a new fit, from the drift measured.</summary>
public enum PgvectorRefitAction
{
    /// <summary>Nothing: a new fit keeps less than <see cref="PgvectorRefitOptions.MinimumGain"/> more than the key in use.</summary>
    None,

    /// <summary>A new version, fitted now, built beside the key in use and switched to.</summary>
    Refit,

    /// <summary>Going on with a refit an earlier run started (its version is stored beside the one in use): no new fit.</summary>
    Resume,

    /// <summary>Finishing a refit an earlier run switched already: dropping what the replaced version left.</summary>
    FinishCleanup,
}

/// <summary>What a refit of a projected key found, and what it does (<see cref="PgvectorMigrator.PlanRefitAsync"/>) or did (<see cref="PgvectorMigrator.RefitProjectionAsync"/>).</summary>
/// <param name="Action">What the refit does.</param>
/// <param name="CurrentVersion">The projection version the table's key was computed with when the refit read it.</param>
/// <param name="Target">
/// The projection the key is switched to (for <see cref="PgvectorRefitAction.FinishCleanup"/> the one in use); null for
/// <see cref="PgvectorRefitAction.None"/>.
/// </param>
/// <param name="KeptByCurrent">The share of the held-out rows' variance the key in use keeps; null when no new fit was made.</param>
/// <param name="KeptByRefit">The share the new fit keeps, on the same rows; null when no new fit was made.</param>
/// <param name="Notes">What the refit found, in words.</param>
/// <param name="Statements">The statements it runs, as psql would show them (the backfill as one batch); empty for <see cref="PgvectorRefitAction.None"/>.</param>
public sealed record PgvectorRefitPlan(
    PgvectorRefitAction Action, int CurrentVersion, PrefixProjection? Target, double? KeptByCurrent, double? KeptByRefit,
    IReadOnlyList<string> Notes, IReadOnlyList<string> Statements)
{
    /// <summary>Whether the refit changes the table.</summary>
    public bool WouldChange => Action != PgvectorRefitAction.None;
}
