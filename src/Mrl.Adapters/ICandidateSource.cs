namespace Mrl.Adapters;

/// <summary>A backend's pass 1: an approximate search on the prefix that returns candidates with their full vectors.</summary>
public interface ICandidateSource<TKey> where TKey : notnull
{
    /// <summary>Returns up to <see cref="CandidateRequest.Count"/> candidates, best first by prefix score.</summary>
    ValueTask<CandidateBatch<TKey>> FetchCandidatesAsync(CandidateRequest request, CancellationToken cancellationToken);
}
