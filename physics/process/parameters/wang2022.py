"""Process-model parameters calibrated on C. Wang et al., J. Mater. Chem. A 2022, 10, 5280.

DOI 10.1039/d1ta10816f (grain-boundary-sealed Na3Zr2Si2PO12 with a (ZnO)2-(B2O3)3 sintering
additive). Data: ``experiments/data/wang2022.csv`` (see ``experiments/data/README.md``).

- :data:`WANG2022_PRIOR`: the starting point before calibration (hand estimates from the
  paper and published NZSP context: bare NZSP 74-88 % dense at 1000-1100 C and ~93 % at
  1200 C, Na loss above ~1230-1250 C, dense NZSP 0.45-1.2 mS/cm, Ea 0.27-0.33 eV).
- :data:`WANG2022`: the result of ``calibrate(paper table, params=WANG2022_PRIOR)`` with the
  default free set and prior weight (a test re-runs it and compares).
"""

from __future__ import annotations

from physics.process.parameters.process_parameters import ProcessParameters

__all__ = ["PAPER_LOWER_BOUNDS", "WANG2022", "WANG2022_PRIOR"]

#: Paper values that are only lower bounds: NZSP-1250's Rint is "over 25 x 23.3 ohm cm2".
PAPER_LOWER_BOUNDS: dict[str, tuple[str, ...]] = {"wang2022-NZSP-1250": ("r_int_ohm_cm2",)}

WANG2022_PRIOR = ProcessParameters(
    green_relative_density=0.6,
    max_relative_density=0.999,
    solid_state_rate_1000c=0.4254,
    densification_activation_energy_ev=1.18,
    liquid_phase_rate_1000c=5.0,
    liquid_phase_x_exponent=2.0,
    liquid_phase_activation_energy_ev=0.8,
    zbo_melt_c=800.9,
    zbo_melt_width_c=10.0,
    dwell_reference_h=6.0,
    dwell_exponent=0.5,
    archie_exponent=3.0,
    sigma_bulk_dense_ms_cm=2.5,
    sigma_gb_open_ms_cm=3.46,
    sigma_gb_sealed_ms_cm=6.0,
    seal_half_x=0.095,
    seal_hill_exponent=4.0,
    glass_block_x=0.4,
    glass_block_exponent=3.0,
    zrsio4_onset_x=0.27,
    zrsio4_width_x=0.02,
    zrsio4_bulk_drop=0.2,
    na_loss_onset_c=1265.0,
    na_loss_width_c=25.0,
    na_loss_rate=1.0,
    na_loss_bulk_drop=0.7,
    na_loss_electronic_gain=10.0,
    glass_volatilization_onset_c=1180.0,
    glass_volatilization_width_c=30.0,
    glass_volatilization_rate=1.5,
    sigma_e_open_ms_cm=0.24,
    sigma_e_bulk_ms_cm=0.025,
    r_int_open_ohm_cm2=605.0,
    r_int_sealed_ohm_cm2=13.0,
    r_int_density_exponent=1.5,
    ccd_max_ma_cm2=0.7,
    ccd_density_exponent=1.0,
    ccd_r_int_half_ohm_cm2=50.0,
    ccd_r_int_exponent=0.3,
    ccd_electronic_scale=0.5,
    ea_bulk_ev=0.27,
    ea_gb_open_ev=0.4,
    ea_gb_sealed_ev=0.3,
    crack_glass_x=0.55,
    crack_glass_exponent=4.0,
    crack_glass_temperature_scale_c=80.0,
    crack_na_loss_half=0.7,
)

WANG2022 = ProcessParameters(
    green_relative_density=0.6,
    max_relative_density=0.999,
    solid_state_rate_1000c=0.420611,
    densification_activation_energy_ev=1.18,
    liquid_phase_rate_1000c=5.39329,
    liquid_phase_x_exponent=2.33394,
    liquid_phase_activation_energy_ev=0.8,
    zbo_melt_c=800.9,
    zbo_melt_width_c=10.0,
    dwell_reference_h=6.0,
    dwell_exponent=0.5,
    archie_exponent=3.23702,
    sigma_bulk_dense_ms_cm=2.44788,
    sigma_gb_open_ms_cm=3.387,
    sigma_gb_sealed_ms_cm=6.18473,
    seal_half_x=0.0946121,
    seal_hill_exponent=5.34903,
    glass_block_x=0.289904,
    glass_block_exponent=3.0,
    zrsio4_onset_x=0.27,
    zrsio4_width_x=0.02,
    zrsio4_bulk_drop=0.301725,
    na_loss_onset_c=1265.0,
    na_loss_width_c=25.0,
    na_loss_rate=1.0,
    na_loss_bulk_drop=0.7,
    na_loss_electronic_gain=10.0,
    glass_volatilization_onset_c=1180.0,
    glass_volatilization_width_c=30.0,
    glass_volatilization_rate=1.5,
    sigma_e_open_ms_cm=0.232514,
    sigma_e_bulk_ms_cm=0.0241515,
    r_int_open_ohm_cm2=605.807,
    r_int_sealed_ohm_cm2=16.2149,
    r_int_density_exponent=1.49969,
    ccd_max_ma_cm2=0.63533,
    ccd_density_exponent=1.0,
    ccd_r_int_half_ohm_cm2=50.0,
    ccd_r_int_exponent=0.27716,
    ccd_electronic_scale=0.5,
    ea_bulk_ev=0.260635,
    ea_gb_open_ev=0.4,
    ea_gb_sealed_ev=0.285408,
    crack_glass_x=0.55,
    crack_glass_exponent=4.0,
    crack_glass_temperature_scale_c=80.0,
    crack_na_loss_half=0.7,
)
