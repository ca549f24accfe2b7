"""Validation against published customer models: Bass diffusion (:mod:`.bass`), Markov-chain
customer migration (Pfeifer & Carraway 2000, :mod:`.markov`) and buy-till-you-die purchasing
(Pareto/NBD and BG/NBD, :mod:`.btyd`). ``python -m sim.validation <model>`` runs a full-size
study from ``experiments/validation/<model>.yaml`` and writes a report of simulated against
analytic."""
