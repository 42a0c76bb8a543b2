// The model catalogue and its downloader as the host offers them; cli/ reaches models/ only through host/.
export {
  CATALOGUE,
  catalogueEntry,
  findModel,
  modelsDir,
  modelStatus,
  ModelMissingError,
  requireModel,
  UnknownModelError,
  type CatalogueEntry,
  type ModelState,
  type ModelStatus,
} from '../models/catalogue/catalogue.js';
export { downloadModel, DownloadError, type DownloadOptions, type DownloadResult } from '../models/catalogue/download.js';
export { readPin, writePin } from '../models/catalogue/pin.js';
export { userSuppliedF0Networks, type UserSuppliedNetwork } from './f0.js';
