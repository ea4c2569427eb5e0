"""Architecture search with distilled or generated data as the proxy: candidates from a search
space, each trained briefly on a proxy and ranked against a longer training on real data.

    result = search(data, ["set:dm.pt", "gtn:gen.safetensors", "random", "real"], candidates=30)
    print(result.table())
"""

from datadistill.nas.figures import plot_agreement
from datadistill.nas.proxies import PROXY_KINDS, ProxyData, parse_proxy
from datadistill.nas.ranking import ground_truth_ranks, rank_agreement
from datadistill.nas.search import NASConfig, NASResult, search, train_steps
from datadistill.nas.space import SPACES, Candidate, SearchSpace, candidate_name

__all__ = [
    "PROXY_KINDS",
    "SPACES",
    "Candidate",
    "NASConfig",
    "NASResult",
    "ProxyData",
    "SearchSpace",
    "candidate_name",
    "ground_truth_ranks",
    "parse_proxy",
    "plot_agreement",
    "rank_agreement",
    "search",
    "train_steps",
]
