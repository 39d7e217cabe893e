"""Parameters of the mechanistic worlds, every formula of the model, and material constants.

The model itself (:mod:`experiments.worlds.mechanistic`) evaluates the formulas listed in
:class:`MechanisticParameters`; each field's comment names its symbol there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from physics.constants import CELSIUS_TO_KELVIN, NZSP_THEORETICAL_DENSITY_G_CM3

__all__ = [
    "NZSP_MOLAR_MASS_G_MOL",
    "REFERENCE_DWELL_H",
    "REFERENCE_GRAIN_UM",
    "REFERENCE_TEMPERATURE_K",
    "V_GLASS_REF",
    "ZBO_GLASS_DENSITY_G_CM3",
    "ZBO_MOLAR_MASS_G_MOL",
    "MechanisticParameters",
    "glass_volume_fraction",
]

#: Molar masses (g/mol) of Na3Zr2Si2PO12 and (ZnO)2(B2O3)3, from standard atomic weights.
NZSP_MOLAR_MASS_G_MOL = 530.55
ZBO_MOLAR_MASS_G_MOL = 371.61
#: Assumed density of the zinc-borate glass (g/cm3); zinc borate glasses are 3.0-3.6.
ZBO_GLASS_DENSITY_G_CM3 = 3.2
#: Reference conditions: 1000 C for 6 h (the paper's), and a 1 um reference grain size.
REFERENCE_TEMPERATURE_K = 1000.0 + CELSIUS_TO_KELVIN
REFERENCE_DWELL_H = 6.0
REFERENCE_GRAIN_UM = 1.0


def glass_volume_fraction(zbo_fraction: Any) -> np.ndarray:
    """Volume fraction of ZBO glass in the solid, ``v = x V_zbo / (V_nzsp + x V_zbo)``.

    ``V = M / density`` (cm3/mol). Args: ``zbo_fraction``, molar ratio ZBO : NZSP, any shape.
    """
    v_zbo = ZBO_MOLAR_MASS_G_MOL / ZBO_GLASS_DENSITY_G_CM3
    v_nzsp = NZSP_MOLAR_MASS_G_MOL / NZSP_THEORETICAL_DENSITY_G_CM3
    x = np.asarray(zbo_fraction, dtype=float)
    return x * v_zbo / (v_nzsp + x * v_zbo)


#: Glass volume fraction at x = 0.2 (v_ref), the reference amount of liquid.
V_GLASS_REF = float(glass_volume_fraction(0.2))


@dataclass(frozen=True)
class MechanisticParameters:
    """Parameters of one world; T in K inside formulas, t = dwell in h, k = Boltzmann (eV/K).

    The defaults are a typical shape, not calibrated to the paper (see
    :func:`experiments.worlds.sampling.calibrate_to_paper`). Furnace
    (:func:`~experiments.worlds.mechanistic.microstructure`):

    - glass volume v: :func:`glass_volume_fraction`; ``A(E, T0) = exp(E/k (1/T0 - 1/T))``;
    - ramp-equivalent time of a process of activation energy E (heating and cooling at
      rate r): ``t_E = t + 2 k T^2 / (E r)``;
    - solid-state master sintering curve: ``ln Th = ln(t_Q / T) - Q / (k T)``,
      ``rho_s = rho_0 + (rho_max - rho_0) sigmoid((ln Th - ln Th_50) / w)``;
    - viscous liquid phase (rate ~ 1 / glass viscosity, rising with the amount of liquid):
      ``Th_L = exp(ln A_L - E_L / (k T)) t_EL (v / v_ref)^a_L``,
      ``rho_d = 1 - (1 - rho_s) exp(-Th_L^n_L)``;
    - over-firing: ``z = (T - T_of0 + s_of v) / w_of``; bloating strain
      ``eps = eps_max sigmoid(z + 1) t / (t + 6)``, ``rho = rho_d / (1 + eps)``;
    - cubic grain growth, faster in the melt: ``d^3 = d_0^3 + (d_1000^3 - d_0^3)
      (t_Qg / t_Qg(1000 C, 6 h)) A(Q_g, T_ref) (1 + a_c v / (v + 0.02))``;
    - B2O3 evaporation (10 % after 6 h at T_B): ``v_av = v exp(-0.105 (t_EB / 6) A(E_B, T_B))``;
    - ZrSiO4 from excess glass: onset ``x_zs(T) = x_zs0 - s_zs (T - T_ref) / 100``,
      ``u = c_zs w_zs softplus((x - x_zs) / w_zs) (1 - exp(-t / tau_zs))``,
      ``tau_zs = tau_zs,1000 / A(E_zs, T_ref)``; limited by the glass:
      ``v_zs = u / (1 + r u / v_av)``; glass left at the boundaries ``v_gb = v_av - r v_zs``;
    - glass coverage of the boundaries (glass fills triple pockets first: Hill form):
      ``v_half = v_h exp(-s_w (T - T_ref) / 100)``, ``theta = v_gb^n / (v_gb^n + v_half^n)``;
    - Na loss: evaporation through open pores (5 % after 6 h at T_on, all pores open),
      ``f_open = sigmoid((1 - rho_d - 0.07) / 0.015)``, ``e = s_0 + (1 - s_0) f_open``,
      ``L = 0.05 (t_Ev / 6) A(E_v, T_on) e max(1 - g_seal theta, 0.05)``; Na2O dissolving
      in the borate melt (2 % after 6 h at T_p for x = 0.2): ``L_p = 0.02 (v_gb / v_ref)
      (t_Ep / 6) A(E_p, T_p)``; ``dNa = 0.3 (1 - exp(-(L + L_p) / 0.3))``;
      ZrO2 ``v_zr = v_zr0 + c_zr dNa``;
    - Zn2+ from the melt entering the grains: ``u_Zn = (1 - exp(-x / x_Zn))
      (1 - exp(-t_EZn / tau_Zn))``, ``tau_Zn = tau_Zn,1000 / A(E_Zn, T_ref)``.

    Properties at 25 C (:func:`~experiments.worlds.mechanistic.properties`):

    - glass film thickness, thickened by glass beyond c_sat v_half:
      ``delta = delta_0 + lam 0.005 softplus((v_gb - c_sat v_half) / 0.005) d / 3``;
    - geometric factor ``G = (rho (1 - b_g v_gb - v_zr - v_zs))^m_b``; microcracks of
      large grains (anisotropic thermal expansion) ``M = 1 / (1 + (d / d_mc)^m_mc)``;
    - bulk ``sigma_b = sigma_g (1 + a_Zn u_Zn) exp(-v_zs / v_si) G / (1 + dNa / dNa_s)``;
    - brick layer, per boundary area: ``g_gb = theta sigma_f / delta + (1 - theta) g_dry c
      B``; neck contact ``c = 0.005 + 0.995 clip((rho - rho_0) / (1 - rho_0), 0, 1)^m_n``;
      Na-depleted, ZrO2-decorated open boundaries ``B = 1 / (1 + dNa / dNa_gb)``;
      ``sigma_gb = d g_gb G M``; ``1 / sigma_total = 1 / sigma_b + 1 / sigma_gb``;
    - activation energy of ``sigma T``: ``Ea_gb = (theta sigma_f / delta Ea_f + (1 - theta)
      g_dry c B Ea_dry) / g_gb``, ``Ea = sigma_total ((Ea_b + c_Ea dNa) / sigma_b + Ea_gb /
      sigma_gb)``;
    - electronic, through the same necks and across the glass films, plus along open
      boundaries: ``sigma_e = G c^m_e (sigma_e0 (1 + c_eNa dNa) delta_0 / delta + s_e
      (1 - theta) B d_ref / d)``; ``t_e = sigma_e / (sigma_e + sigma_total)``;
    - interface, both sides (glass / ZnO at the surface lets Na wet the electrolyte):
      ``R_int = R_0 (1 + c_RNa dNa) / (rho^k (theta + (1 - theta) w_bare))``;
    - CCD (Na pressure in a flaw against the toughness; current focusing by the interface;
      Na nucleated inside by leaked electrons): toughness ``K = exp(-b_K (1 - rho))``,
      flaw ``a = d (1 + kap (1 - rho)) (1 + (d / d_mc)^m_mc)``,
      ``CCD = C K sqrt(d_ref / a) (R_ref / (R_int + R_ref))^alpha / (1 + (t_e / t_c)^q)``;
    - furnace failure: hazard ``H = h_0 + exp(z) + (d / d_mc)^m_mc + (v / v_cte)^6 +
      (dNa / dNa_crack)^3``, ``p_crack = 1 - exp(-H)``.
    """

    # densification
    green_density: float = 0.56  # rho_0
    solid_max_density: float = 0.97  # rho_max
    msc_activation_energy_ev: float = 5.5  # Q
    msc_width_ln: float = 1.5  # w
    msc_log_theta_half: float = -48.0  # ln Th_50, ln(h/K)
    heating_rate_c_per_h: float = 300.0  # r
    liquid_activation_energy_ev: float = 4.0  # E_L
    liquid_log_rate: float = 38.0  # ln A_L, ln(1/h)
    liquid_amount_exponent: float = 1.5  # a_L
    liquid_exponent: float = 1.0  # n_L
    overfire_onset_c: float = 1380.0  # T_of0
    overfire_shift_c_per_glass: float = 1200.0  # s_of
    overfire_width_c: float = 20.0  # w_of
    bloat_max_strain: float = 0.08  # eps_max
    # grains
    grain_size_initial_um: float = 0.5  # d_0
    grain_size_1000c_um: float = 1.5  # d_1000 (x = 0, 6 h)
    grain_growth_activation_energy_ev: float = 3.0  # Q_g
    liquid_coarsening_factor: float = 3.0  # a_c
    microcrack_grain_size_um: float = 10.0  # d_mc
    microcrack_exponent: float = 4.0  # m_mc
    # glass chemistry
    glass_evaporation_onset_c: float = 1300.0  # T_B
    glass_evaporation_activation_energy_ev: float = 5.0  # E_B
    zircon_onset_x: float = 0.25  # x_zs0
    zircon_onset_shift_per_100c: float = 0.02  # s_zs
    zircon_width_x: float = 0.02  # w_zs
    zircon_yield: float = 0.3  # c_zs
    zircon_glass_consumption: float = 1.0  # r
    zircon_time_1000c_h: float = 3.0  # tau_zs,1000
    zircon_activation_energy_ev: float = 2.0  # E_zs
    zircon_si_depletion_fraction: float = 0.1  # v_si
    coverage_half_fraction: float = 0.07  # v_h
    coverage_hill_exponent: float = 4.0  # n
    wetting_shift_per_100c: float = 0.1  # s_w
    film_thickness_nm: float = 1.5  # delta_0
    film_saturation_ratio: float = 1.8  # c_sat
    film_thickening: float = 0.3  # lam
    # Na loss, ZrO2, Zn doping
    na_loss_onset_c: float = 1230.0  # T_on
    na_loss_activation_energy_ev: float = 5.0  # E_v
    na_loss_closed_exposure: float = 0.2  # s_0
    glass_na_seal: float = 0.3  # g_seal
    na_partition_onset_c: float = 1250.0  # T_p
    na_partition_activation_energy_ev: float = 4.0  # E_p
    na_loss_conductivity_scale: float = 0.03  # dNa_s
    zro2_base_fraction: float = 0.02  # v_zr0
    zro2_per_na_loss: float = 0.6  # c_zr
    zn_doping_gain: float = 0.3  # a_Zn
    zn_solubility_x: float = 0.05  # x_Zn
    zn_doping_time_1000c_h: float = 20.0  # tau_Zn,1000
    zn_doping_activation_energy_ev: float = 3.0  # E_Zn
    # ionic conduction
    grain_conductivity_ms_cm: float = 3.0  # sigma_g
    film_conductivity_ms_cm: float = 3e-3  # sigma_f
    dry_conductance_s_cm2: float = 20.0  # g_dry
    tortuosity_exponent: float = 1.8  # m_b
    glass_blocking: float = 0.8  # b_g
    neck_exponent: float = 2.0  # m_n
    gb_na_loss_scale: float = 0.02  # dNa_gb
    ea_bulk_ev: float = 0.27  # Ea_b
    ea_film_ev: float = 0.42  # Ea_f
    ea_dry_ev: float = 0.48  # Ea_dry
    ea_na_loss_ev: float = 0.8  # c_Ea
    # electronic leakage
    electronic_bulk_ms_cm: float = 0.025  # sigma_e0
    electronic_gb_ms_cm: float = 0.1  # s_e
    electronic_density_exponent: float = 1.5  # m_e
    electronic_na_loss_factor: float = 10.0  # c_eNa
    # Na | NZSP interface, both sides
    r_int_sealed_ohm_cm2: float = 22.0  # R_0
    bare_wetting_fraction: float = 0.03  # w_bare
    r_int_density_exponent: float = 1.0  # k
    r_int_na_loss_factor: float = 10.0  # c_RNa
    # critical current density
    ccd_scale_ma_cm2: float = 1.0  # C
    toughness_porosity_coefficient: float = 2.0  # b_K
    flaw_porosity_factor: float = 3.0  # kap
    ccd_r_int_reference_ohm_cm2: float = 30.0  # R_ref
    ccd_r_int_exponent: float = 0.4  # alpha
    ccd_leak_fraction: float = 0.2  # t_c
    ccd_leak_exponent: float = 1.5  # q
    # furnace failure
    crack_base_hazard: float = 0.02  # h_0
    glass_crack_fraction: float = 0.35  # v_cte
    crack_na_loss_fraction: float = 0.15  # dNa_crack
