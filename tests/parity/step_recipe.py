"""The recipe of a parity check's few training steps on x.npy / y.npy (unshuffled), for the checks
that train one model briefly beside PyTorch (bf16_parity.py, dropout_parity.py)."""


def step_recipe(path, batch, steps, optimizer, runtime, train_extra=""):
    """Recipe text: the model at `path`, `steps` steps of `batch`, then the [optimizer] and [runtime]
    tables given as {key: TOML value text}."""
    def table(name, entries):
        return f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items())
    return (f'[model]\npath = "{path}"\n[data]\nformat = "npy"\ntrain_x = "x.npy"\ntrain_y = "y.npy"\n'
            f"shuffle = false\n[train]\nbatch_size = {batch}\nsteps = {steps}\n{train_extra}"
            + table("optimizer", optimizer) + table("runtime", runtime))
