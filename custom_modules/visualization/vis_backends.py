"""mmengine's MLflow backend, with artefacts chosen for a run's work dir."""
import os
import os.path as osp

from mmengine.logging import MessageHub
from mmengine.visualization import MLflowVisBackend
from mmpretrain.registry import VISBACKENDS


@VISBACKENDS.register_module()
class WorkDirMLflowVisBackend(MLflowVisBackend):
    """``MLflowVisBackend`` (same arguments) whose closing artefacts are the
    work dir's logs, configs and JSON records plus the best checkpoint, not
    (as mmengine's walk would) the store kept there or linked photos.
    """

    def close(self):
        if not hasattr(self, '_mlflow'):
            return
        work_dir = self.cfg.work_dir
        store = osp.realpath(self._save_dir)
        for folder, dirs, files in os.walk(work_dir):
            dirs[:] = [d for d in dirs
                       if osp.realpath(osp.join(folder, d)) != store]
            where = osp.relpath(folder, work_dir)
            for name in files:
                if name.endswith(tuple(self._artifact_suffix)):
                    self._mlflow.log_artifact(osp.join(folder, name),
                                              None if where == '.' else where)
        best = MessageHub.get_current_instance().get_info('best_ckpt')
        if best and osp.isfile(best):
            self._mlflow.log_artifact(best, 'checkpoints')
        self._mlflow.end_run()
