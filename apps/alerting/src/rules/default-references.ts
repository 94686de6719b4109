/**
 * The residual-mewma references of the shipped default twin models (`models/default`): mean and
 * covariance of each sensor's hour-long time-aware average of the twin's residuals on healthy machines,
 * as rule params (detectors/mewma.ts). Fitted on a simulated fleet of 36 healthy machines (12 per asset
 * type, 2.5 days each, none designed to fail), a fleet no evaluation scores:
 *
 *   EVAL_SEED=21 EVAL_FAILING=0 EVAL_CALIBRATE=refs.json npm run eval:alerts
 *
 * (6 significant digits). They belong to these models: refit after retraining one
 * (`npm run alerting:calibrate` fits one from a plant's own stored residuals).
 */
export const DEFAULT_REFERENCES: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  // 7720 samples
  'centrifugal-pump': {
    'mean.flow': 0.288261,
    'mean.discharge_pressure': -0.441745,
    'mean.motor_current': -0.281607,
    'mean.bearing_temperature': 0.213867,
    'mean.vibration_rms': -0.339545,
    'cov.flow.flow': 0.148892,
    'cov.flow.discharge_pressure': -0.146921,
    'cov.flow.motor_current': -0.0348995,
    'cov.flow.bearing_temperature': -0.146767,
    'cov.flow.vibration_rms': 0.0172941,
    'cov.discharge_pressure.discharge_pressure': 0.361115,
    'cov.discharge_pressure.motor_current': 0.158351,
    'cov.discharge_pressure.bearing_temperature': 0.183216,
    'cov.discharge_pressure.vibration_rms': -0.0681104,
    'cov.motor_current.motor_current': 0.308401,
    'cov.motor_current.bearing_temperature': 0.117665,
    'cov.motor_current.vibration_rms': 0.0543148,
    'cov.bearing_temperature.bearing_temperature': 0.78161,
    'cov.bearing_temperature.vibration_rms': -0.0989071,
    'cov.vibration_rms.vibration_rms': 0.213574,
  },
  // 7523 samples
  'electric-motor': {
    'mean.current': 0.0439325,
    'mean.speed': 0.0440022,
    'mean.winding_temperature': 0.162173,
    'mean.frame_temperature': 0.17525,
    'mean.vibration_rms': 0.0207297,
    'cov.current.current': 0.136136,
    'cov.current.speed': 0.0162435,
    'cov.current.winding_temperature': -0.0449357,
    'cov.current.frame_temperature': -0.0501244,
    'cov.current.vibration_rms': -0.0119437,
    'cov.speed.speed': 0.0532333,
    'cov.speed.winding_temperature': -0.0526346,
    'cov.speed.frame_temperature': -0.0612797,
    'cov.speed.vibration_rms': 0.0550212,
    'cov.winding_temperature.winding_temperature': 0.710105,
    'cov.winding_temperature.frame_temperature': 0.688298,
    'cov.winding_temperature.vibration_rms': -0.119164,
    'cov.frame_temperature.frame_temperature': 0.772445,
    'cov.frame_temperature.vibration_rms': -0.121202,
    'cov.vibration_rms.vibration_rms': 0.138484,
  },
  // 7456 samples
  'air-compressor': {
    'mean.discharge_pressure': -0.0138866,
    'mean.discharge_temperature': -0.0599713,
    'mean.oil_temperature': -0.000462424,
    'mean.motor_current': 0.0198508,
    'cov.discharge_pressure.discharge_pressure': 0.257243,
    'cov.discharge_pressure.discharge_temperature': -0.0539804,
    'cov.discharge_pressure.oil_temperature': -0.057826,
    'cov.discharge_pressure.motor_current': 0.0815094,
    'cov.discharge_temperature.discharge_temperature': 0.325612,
    'cov.discharge_temperature.oil_temperature': 0.326951,
    'cov.discharge_temperature.motor_current': -0.0790428,
    'cov.oil_temperature.oil_temperature': 0.401753,
    'cov.oil_temperature.motor_current': -0.119009,
    'cov.motor_current.motor_current': 0.19461,
  },
};
