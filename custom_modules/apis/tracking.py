"""``--vis-backend tensorboard|mlflow``: mmengine's visualizer backends
beside the local one (events in ``vis_data``; an MLflow store in
``<work_dir>/mlruns``)."""
import importlib.util
import os
import os.path as osp

import custom_modules.visualization.vis_backends  # noqa: F401  (registers)
from custom_modules.utils.errors import UserInputError

# name -> (mmengine backend, module it imports, what to install)
VIS_BACKENDS = {
    'tensorboard': ('TensorboardVisBackend', 'tensorboard',
                    'pip install tensorboard'),
    'mlflow': ('WorkDirMLflowVisBackend', 'mlflow', 'pip install mlflow'),
}


def mlflow_uri(work_dir):
    """The MLflow tracking URI of runs in ``work_dir``."""
    return 'file://' + osp.abspath(osp.join(work_dir, 'mlruns'))


def add_vis_backends(cfg, names, experiment):
    """Add the named tracking backends to ``cfg.visualizer.vis_backends``.

    Args:
        cfg (Config): The config to run; its ``work_dir`` is set.
        names (list[str] | None): Keys of :data:`VIS_BACKENDS`; repeats
            count once.
        experiment (str): The MLflow experiment name (the config's name).
    """
    added = []
    for name in dict.fromkeys(names or ()):
        backend, module, install = VIS_BACKENDS[name]
        if importlib.util.find_spec(module) is None:
            raise UserInputError(
                f'--vis-backend {name} needs the {module} package, which is '
                f'not installed: {install} (or pip install -r '
                'requirements/optional.txt)')
        entry = dict(type=backend)
        if name == 'mlflow':
            # MLflow 3 keeps the folder store in maintenance mode and
            # refuses it unless asked; a database needs SQLAlchemy, and a
            # folder is what a run's work dir holds.
            os.environ.setdefault('MLFLOW_ALLOW_FILE_STORE', 'true')
            # save_dir, not tracking_uri: mmengine warns "make sure that
            # the mlflow server is running" for any tracking_uri.
            entry.update(save_dir=osp.join(cfg.work_dir, 'mlruns'),
                         exp_name=experiment)
        added.append(entry)
    if added:
        visualizer = cfg.visualizer
        visualizer.vis_backends = [*visualizer.get('vis_backends', []), *added]
        # mmengine's LoggerHook gives the backends validation metrics only.
        hooks = list(cfg.get('custom_hooks', []))
        if not any(h.get('type') == 'TestMetricsToVisBackendsHook'
                   for h in hooks):
            cfg.custom_hooks = [*hooks,
                                dict(type='TestMetricsToVisBackendsHook')]
    return added
