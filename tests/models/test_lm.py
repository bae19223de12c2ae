import torch

from speech.decoding import BeamSearch, SearchConfig
from speech.models.lm import RNNLM, LMConfig


def test_lm_overfits_and_scores_consistently():
    torch.manual_seed(0)
    lm = RNNLM(LMConfig(vocab_size=8, embed_dim=8, hidden_size=16, dropout=0.0))
    seqs = torch.tensor([[4, 5, 6, 7], [5, 5, 4, 0]])
    lengths = torch.tensor([4, 3])
    opt = torch.optim.Adam(lm.parameters(), lr=0.05)
    for _ in range(150):
        opt.zero_grad()
        loss = lm(seqs, lengths)
        loss.backward()
        opt.step()
    assert loss.item() < 0.2  # the first token is a coin toss between the two sentences: ln 2 / 9
    lm.eval()
    # Step-by-step scoring equals the teacher-forced model.
    state = lm.init_state(torch.zeros(1, 1, 1), torch.tensor([1]))
    last, total = torch.tensor([1]), 0.0
    for tok in [4, 5, 6, 7, 2]:
        lp, state = lm.score(last, state)
        total += lp[0, tok].item()
        last = torch.tensor([tok])
    assert total > -1.0  # ln 0.5 for the first token, ~0 for the rest
    # As the only scorer of a beam search, the LM generates one of its training sentences.
    hyp = BeamSearch({"lm": lm}, {}, 1, 2, SearchConfig(beam_size=3, max_length_ratio=1.0))(
        torch.zeros(1, 8, 1), torch.tensor([8])
    )[0][0]
    assert hyp.tokens in ([4, 5, 6, 7], [5, 5, 4])
